"""riskcli: keep a company's customer risk under control from the terminal."""

__version__ = "0.1.0"
