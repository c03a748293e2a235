"""The version of the httpwire-parser distribution."""

__version__ = "0.1.0"
