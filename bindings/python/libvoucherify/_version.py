# The binding's version: equal to Cargo.toml's and pyproject.toml's (a test
# keeps the three equal). The library it loads must be compatible with it.
__version__ = "0.1.0"
