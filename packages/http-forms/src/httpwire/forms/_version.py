"""The version of the httpwire-forms distribution."""

__version__ = "0.1.0"
