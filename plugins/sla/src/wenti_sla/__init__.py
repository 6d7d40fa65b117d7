"""wenti SLA plugin."""
