"""The version of the httpwire-connectors distribution."""

__version__ = "0.1.0"
