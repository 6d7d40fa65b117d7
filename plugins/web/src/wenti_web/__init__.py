"""wenti web app: the REST API, the server-rendered UI, accounts, sessions and attachments.

The entry point `web` in group `wenti` names this module; its hook implementations
live in `wenti_web.hooks`.
"""

from wenti_web.hooks import register_blob_stores, register_commands, register_config_classes, register_sql_schemas

__all__ = ["register_blob_stores", "register_commands", "register_config_classes", "register_sql_schemas"]
