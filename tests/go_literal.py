"""Go string literals in the third-party test sources the corpus tests read (go-syslog's,
go-logfmt's): the bytes an interpreted literal's body stands for. One reader for every test
that takes vectors out of Go source."""

from __future__ import annotations

# Go's one-character escapes, and `\'` (valid in rune literals, harmless here).
_ESCAPES = {
    "a": 7,
    "b": 8,
    "f": 12,
    "n": 10,
    "r": 13,
    "t": 9,
    "v": 11,
    "\\": 92,
    '"': 34,
    "'": 39,
}


def go_unquote(body: str) -> bytes:
    """The bytes of an interpreted (double-quoted) Go string literal's body, its escapes
    undone: `\\xHH` and octal `\\OOO` are one byte each (as in Go, not a code point);
    `\\uHHHH` and `\\UHHHHHHHH` are a code point's UTF-8."""
    out = bytearray()
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out += char.encode()
            i += 1
            continue
        kind = body[i + 1]
        if kind == "x":
            out.append(int(body[i + 2 : i + 4], 16))
            i += 4
        elif kind in "uU":
            width = 4 if kind == "u" else 8
            out += chr(int(body[i + 2 : i + 2 + width], 16)).encode()
            i += 2 + width
        elif kind in "01234567":
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(_ESCAPES[kind])
            i += 2
    return bytes(out)
