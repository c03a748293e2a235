"""The version of the httpwire-streams distribution."""

__version__ = "0.1.0"
