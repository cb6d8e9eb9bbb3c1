"""Watcher's `Json.load` / `Json.dump` for scripts run by the Painless execute API. Pure.

Watcher adds one class to Painless in its contexts (its `painless_whitelist.txt`):
`Json.load(String)`, `Json.dump(def)` and `Json.dump(def, boolean pretty)`. The execute API's
context, on Elasticsearch and on the local OpenSearch node alike, does not have it, so
`rewrite()` turns those calls into calls of functions written here in Painless (`LIBRARY`),
which painless.py puts before every watch script.

They behave as Elasticsearch's `org.elasticsearch.painless.api.Json` does:

- `load` gives maps (HashMap, as XContentParser.map()), lists, Integer / Long / BigInteger for
  whole numbers (the smallest that fits, as Jackson reads them), Double for the others,
  strings, booleans and null;
- `dump` writes compact JSON, or with `pretty` Elasticsearch's pretty form (Jackson's default
  printer indenting objects and arrays by two spaces: `"key" : value`, `{ }`, `[ ]`); strings
  escaped as Jackson escapes them; NaN and infinities as strings, as Jackson quotes them; a
  ZonedDateTime as `strict_date_optional_time_nanos` (2026-11-25T10:00:00.000Z), as
  XContentBuilder writes dates.

The same writer (`__j`) brings a script's result back to edgewatch, so a date or a NaN in a
payload reads as it would in a Watcher record.
"""

from __future__ import annotations

import re

__all__ = ["LIBRARY", "rewrite"]

# Painless string literals only know the escapes \\ and \', so characters are written as codes.
LIBRARY = r"""
String __q(String s) {
  String hex = '0123456789ABCDEF';
  StringBuilder b = new StringBuilder();
  b.append((char) 34);
  for (int i = 0; i < s.length(); i++) {
    char c = s.charAt(i);
    if (c == (char) 34 || c == (char) 92) { b.append((char) 92).append(c); }
    else if (c == (char) 8) { b.append((char) 92).append('b'); }
    else if (c == (char) 9) { b.append((char) 92).append('t'); }
    else if (c == (char) 10) { b.append((char) 92).append('n'); }
    else if (c == (char) 12) { b.append((char) 92).append('f'); }
    else if (c == (char) 13) { b.append((char) 92).append('r'); }
    else if (c < (char) 32) {
      b.append((char) 92).append('u00').append(hex.charAt(c >> 4)).append(hex.charAt(c & 15));
    }
    else { b.append(c); }
  }
  return b.append((char) 34).toString();
}
String __date(ZonedDateTime z) {
  String fraction = String.valueOf(1000000000 + z.getNano()).substring(1);
  int end = 9;
  while (end > 3 && fraction.charAt(end - 1) == (char) 48) { end--; }
  String zone = z.getOffset().getTotalSeconds() == 0 ? 'Z' : z.getOffset().getId();
  return z.format(DateTimeFormatter.ofPattern('uuuu-MM-dd\'T\'HH:mm:ss')) + '.'
      + fraction.substring(0, end) + zone;
}
void __jw(def v, boolean pretty, String indent, StringBuilder b) {
  if (v == null) { b.append('null'); return; }
  if (v instanceof Map || v instanceof Collection || v instanceof Object[]) {
    boolean isMap = v instanceof Map;
    List items = isMap ? new ArrayList(v.entrySet())
        : (v instanceof Collection ? new ArrayList(v) : Arrays.asList(v));
    String open = isMap ? '{' : '[';
    String close = isMap ? '}' : ']';
    if (items.isEmpty()) { b.append(open).append(pretty ? ' ' : '').append(close); return; }
    String inner = indent + '  ';
    b.append(open);
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) { b.append(','); }
      if (pretty) { b.append((char) 10).append(inner); }
      def item = items.get(i);
      if (isMap) {
        b.append(__q(String.valueOf(item.getKey()))).append(pretty ? ' : ' : ':');
        item = item.getValue();
      }
      __jw(item, pretty, inner, b);
    }
    if (pretty) { b.append((char) 10).append(indent); }
    b.append(close);
    return;
  }
  if (v instanceof Boolean) { b.append(String.valueOf(v)); return; }
  if (v instanceof Number) {
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) { b.append(__q(String.valueOf(v))); return; }
    }
    b.append(String.valueOf(v));
    return;
  }
  if (v instanceof ZonedDateTime) { b.append(__q(__date(v))); return; }
  b.append(__q(String.valueOf(v)));
}
String __j(def v) {
  StringBuilder b = new StringBuilder();
  __jw(v, false, '', b);
  return b.toString();
}
String __json_dump(def v) { return __j(v); }
String __json_dump(def v, boolean pretty) {
  StringBuilder b = new StringBuilder();
  __jw(v, pretty, '', b);
  return b.toString();
}
IllegalArgumentException __jerr(String s, int[] p, String wanted) {
  String found = p[0] < s.length() ? 'character [' + s.charAt(p[0]) + ']' : 'the end';
  return new IllegalArgumentException(
      'Json.load: expected ' + wanted + ' at offset ' + p[0] + ', found ' + found);
}
void __jskip(String s, int[] p) {
  while (p[0] < s.length()) {
    char c = s.charAt(p[0]);
    if (c != (char) 32 && c != (char) 9 && c != (char) 10 && c != (char) 13) { return; }
    p[0]++;
  }
}
void __jexpect(String s, int[] p, char c, String wanted) {
  __jskip(s, p);
  if (p[0] >= s.length() || s.charAt(p[0]) != c) { throw __jerr(s, p, wanted); }
  p[0]++;
}
String __jstr(String s, int[] p) {
  StringBuilder b = new StringBuilder();
  p[0]++;
  while (p[0] < s.length()) {
    char c = s.charAt(p[0]);
    p[0]++;
    if (c == (char) 34) { return b.toString(); }
    if (c != (char) 92) { b.append(c); continue; }
    if (p[0] >= s.length()) { break; }
    char e = s.charAt(p[0]);
    p[0]++;
    if (e == (char) 117 && p[0] + 4 <= s.length()) {
      b.append((char) Integer.parseInt(s.substring(p[0], p[0] + 4), 16));
      p[0] += 4;
    }
    else if (e == (char) 98) { b.append((char) 8); }
    else if (e == (char) 116) { b.append((char) 9); }
    else if (e == (char) 110) { b.append((char) 10); }
    else if (e == (char) 102) { b.append((char) 12); }
    else if (e == (char) 114) { b.append((char) 13); }
    else if (e == (char) 34 || e == (char) 92 || e == (char) 47) { b.append(e); }
    else { p[0] -= 2; throw __jerr(s, p, 'a valid escape'); }
  }
  throw __jerr(s, p, 'the end of a string');
}
def __jnum(String s, int[] p) {
  int start = p[0];
  boolean whole = true;
  while (p[0] < s.length()) {
    char c = s.charAt(p[0]);
    if (c == (char) 46 || c == (char) 101 || c == (char) 69) { whole = false; }
    else if (!(Character.isDigit(c) || c == (char) 45 || c == (char) 43)) { break; }
    p[0]++;
  }
  String text = s.substring(start, p[0]);
  if (!whole) { return Double.parseDouble(text); }
  BigInteger n = new BigInteger(text);
  if (n.bitLength() < 32) { return n.intValue(); }
  if (n.bitLength() < 64) { return n.longValue(); }
  return n;
}
def __jr(String s, int[] p) {
  __jskip(s, p);
  if (p[0] >= s.length()) { throw __jerr(s, p, 'a value'); }
  char c = s.charAt(p[0]);
  if (c == (char) 123 || c == (char) 91) {
    boolean isMap = c == (char) 123;
    char close = isMap ? (char) 125 : (char) 93;
    def out = isMap ? new HashMap() : new ArrayList();
    p[0]++;
    __jskip(s, p);
    if (p[0] < s.length() && s.charAt(p[0]) == close) { p[0]++; return out; }
    boolean more = true;
    while (more) {
      if (isMap) {
        __jskip(s, p);
        if (p[0] >= s.length() || s.charAt(p[0]) != (char) 34) {
          throw __jerr(s, p, 'a field name');
        }
        String key = __jstr(s, p);
        __jexpect(s, p, (char) 58, '[:]');
        out.put(key, __jr(s, p));
      } else {
        out.add(__jr(s, p));
      }
      __jskip(s, p);
      more = p[0] < s.length() && s.charAt(p[0]) == (char) 44;
      if (more) { p[0]++; }
    }
    __jexpect(s, p, close, isMap ? '[,] or [}]' : '[,] or []]');
    return out;
  }
  if (c == (char) 34) { return __jstr(s, p); }
  if (s.startsWith('true', p[0])) { p[0] += 4; return true; }
  if (s.startsWith('false', p[0])) { p[0] += 5; return false; }
  if (s.startsWith('null', p[0])) { p[0] += 4; return null; }
  if (c == (char) 45 || Character.isDigit(c)) { return __jnum(s, p); }
  throw __jerr(s, p, 'a value');
}
def __json_load(String s) {
  int[] p = new int[] {0};
  __jskip(s, p);
  return p[0] >= s.length() ? null : __jr(s, p);
}
"""

# What a call looks like once strings and comments are out of the way.
_CALL = re.compile(r"(?<![\w$.])Json\s*\.\s*(load|dump)(?=\s*\()")
# Painless string literals ('...', "...", with backslash escapes) and comments.
_SKIPPED = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|//[^\n]*|/\*.*?\*/",
    re.DOTALL,
)


def rewrite(source: str) -> str:
    """`source` with its `Json.load(` / `Json.dump(` calls turned into calls of LIBRARY's
    functions; string literals and comments are left as they are."""
    out: list[str] = []
    at = 0
    for skipped in _SKIPPED.finditer(source):
        out.append(_CALL.sub(r"__json_\1", source[at : skipped.start()]))
        out.append(skipped.group())
        at = skipped.end()
    out.append(_CALL.sub(r"__json_\1", source[at:]))
    return "".join(out)
