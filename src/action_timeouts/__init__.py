"""Change the execution timeout of Genesys Cloud data actions safely."""

__version__ = "0.1.0"
