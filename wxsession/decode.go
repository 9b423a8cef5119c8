package wxsession

import (
	"strings"
	"unicode/utf8"
)

// decodeURIComponent decodes s like JavaScript's decodeURIComponent: each
// %XX escape is one byte, escapes of a multi-byte character must together
// form one valid UTF-8 sequence (no surrogates, no overlong forms), and '+'
// stays '+'. Unlike JavaScript, which works on UTF-16 strings, the result
// must also be valid UTF-8 as a whole, so raw bytes outside escapes must be
// valid UTF-8 too. ok is false for any malformed input (JavaScript throws
// URIError).
func decodeURIComponent(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		if !utf8.ValidString(s) {
			return "", false
		}
		return s, true
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			i++
			continue
		}
		lead, ok := unhex2(s, i)
		if !ok {
			return "", false
		}
		i += 3
		if lead < utf8.RuneSelf {
			b = append(b, lead)
			continue
		}
		// A multi-byte character: its length comes from the lead byte and
		// every continuation byte must be escaped too.
		n := 0
		switch {
		case lead&0xE0 == 0xC0:
			n = 2
		case lead&0xF0 == 0xE0:
			n = 3
		case lead&0xF8 == 0xF0:
			n = 4
		default:
			return "", false
		}
		var seq [4]byte
		seq[0] = lead
		for k := 1; k < n; k++ {
			if i >= len(s) || s[i] != '%' {
				return "", false
			}
			cb, ok := unhex2(s, i)
			if !ok {
				return "", false
			}
			seq[k] = cb
			i += 3
		}
		r, size := utf8.DecodeRune(seq[:n])
		if r == utf8.RuneError || size != n {
			return "", false
		}
		b = append(b, seq[:n]...)
	}
	if !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// unhex2 decodes the two hex digits after the '%' at s[i].
func unhex2(s string, i int) (byte, bool) {
	if i+2 >= len(s) {
		return 0, false
	}
	h, ok1 := unhex(s[i+1])
	l, ok2 := unhex(s[i+2])
	return h<<4 | l, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
