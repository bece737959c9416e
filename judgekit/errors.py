"""Exceptions raised by judgekit.

Every error about user input names the item index, file line, row or field
that is at fault, so that nothing is silently dropped or guessed.
"""
from __future__ import annotations


class JudgekitError(Exception):
    """Base class of every error judgekit raises on purpose."""


class InputError(JudgekitError, ValueError):
    """Bad input: the message names the item, line, row or field."""
