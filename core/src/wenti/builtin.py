"""Core's built-in plugin, registered after every installed plugin.

It is the place for defaults that a plugin may override. Because it registers
last, pluggy calls its implementations before those of plugins registered
earlier, so a default that must yield to plugins is marked `trylast`.

Nothing heavy belongs here: storage, blob stores, notifiers and everything else
that needs a third-party package come from plugins.

NOTE: it implements no hooks yet. The default workflow is seeded by the admin
service and the default queue is chosen by the issue service, so no built-in
hook is needed for them.
"""
