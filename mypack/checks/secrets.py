"""Deploy checks of secret keys that are long and varied enough, yet easy to guess:
a short pattern repeated, or a placeholder phrase someone meant to replace.

E013 to E017 (``mypack.instance.secret_key_problems``) already refuse keys that are
missing, short, of few characters or well-known; a key they refuse is not looked at
again here, so each weak key gets one finding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mypack.checks.findings import Finding

#: A key of which fewer than this share of its 3-character pieces are different is a
#: pattern repeated: ``"Qm8dT2xLw9Pz-" * 5`` has 13 different pieces in 63, a random
#: key nearly as many as it has pieces.
MIN_DIFFERENT_PIECES = 0.5
#: Found anywhere in a key, case and everything but letters and digits ignored
#: ("Change-Me" is "changeme"). At least six letters each, so a random key holds one
#: by chance about once in a million.
PLACEHOLDER_PHRASES = (
    "changeme", "changethis", "changeit", "replaceme", "replacethis", "replacewith",
    "yoursecret", "yourkey", "secretkey", "mysecret", "supersecret", "placeholder",
    "notsecret", "notsosecret", "insecure", "donotuse", "dontuse", "notforproduction",
    "example", "sample", "secret", "password", "passphrase", "development", "default",
    "testing", "hardtoguess", "neverguess", "randomstring", "generate",
)
#: Short words that mark a placeholder when they stand alone in a key that reads as
#: words (letters make up half of it at least): "my-dev-key-for-the-cafe-...".
PLACEHOLDER_WORDS = frozenset({
    "dev", "test", "demo", "dummy", "fake", "temp", "tmp", "key", "todo", "fixme", "xxx",
    "foo", "bar",
})


def check_secret_keys(values: Mapping[str, Any], instance_path: Path) -> list[Finding]:
    """SECRET_KEY and each SECRET_KEY_FALLBACKS entry: no repeated pattern (E018), no
    placeholder phrase (E019)."""
    from mypack.instance import secret_key_problems

    keys = [("SECRET_KEY", values.get("SECRET_KEY"))]
    keys += [(f"SECRET_KEY_FALLBACKS entry {number}", key) for number, key
             in enumerate(values.get("SECRET_KEY_FALLBACKS") or [], start=1)]
    findings = []
    for name, key in keys:
        fix = (f"write a random one: mypack --instance {instance_path} init --new-secret-key"
               if name == "SECRET_KEY" else "remove it from SECRET_KEY_FALLBACKS")
        if not key or secret_key_problems({"SECRET_KEY": key}, instance_path):
            continue  # missing, short, low-variety or well-known: E013 to E017 say so
        text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        pieces = len(text) - 2
        different = len({text[start:start + 3] for start in range(pieces)})
        if different < pieces * MIN_DIFFERENT_PIECES:
            findings.append(Finding("mypack.E018", f"{name} is a short pattern repeated (only "
                                                   f"{different} different 3-character pieces "
                                                   f"in {len(text)} characters), far easier to "
                                                   f"guess than its length says; {fix}"))
        elif is_placeholder(text):
            findings.append(Finding("mypack.E019", f"{name} is a placeholder phrase, not a "
                                                   f"random key; {fix}"))
    return findings


def is_placeholder(text: str) -> bool:
    """Whether a key holds a placeholder phrase, or is words with a placeholder word."""
    lowered = text.lower()
    letters_and_digits = re.sub(r"[^a-z0-9]", "", lowered)
    if any(phrase in letters_and_digits for phrase in PLACEHOLDER_PHRASES):
        return True
    words = re.findall(r"[a-z0-9]+", lowered)
    in_words = sum(len(word) for word in words if len(word) > 1 and word.isalpha())
    return in_words * 2 >= len(text) and not PLACEHOLDER_WORDS.isdisjoint(words)
