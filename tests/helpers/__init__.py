"""Helpers the tests share: paths, workbooks, workspaces and the command line. No test module
imports another; they import from here."""
