"""Puts every Python process the tests start into the Windows-like mode (see winlike.py)."""

import os

if os.environ.get("CERTPIPE_TEST_WINDOWS") == "1":
    import winlike

    winlike.install()
