"""A well-formed plugin: one metric and a config class."""

import attrs

from wenti import hookimpl
from wenti.records import Metric, PluginConfig


@attrs.define
class SampleConfig:
    threshold: int = 10


@hookimpl
def register_config_classes():
    return [PluginConfig("sample_good", SampleConfig)]


@hookimpl
def register_metrics():
    return [Metric("sample_backlog", compute=lambda app, ctx: 0, unit="issues")]
