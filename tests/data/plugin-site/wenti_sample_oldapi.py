"""A plugin written for another generation of the plugin API."""

from wenti import hookimpl

wenti_api_version = 2


@hookimpl
def startup(app):
    pass
