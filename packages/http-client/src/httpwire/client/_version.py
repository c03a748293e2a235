"""The version of the httpwire-client distribution."""

__version__ = "0.1.0"
