package paint

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultMaxActionsBytes is the size limit for Actions when the caller
// passes 0 to Validate: 1 MiB holds thousands of strokes, far more than a
// phone drawing needs, while bounding what one request can make us store.
const DefaultMaxActionsBytes = 1 << 20

// MaxIDLength is the longest id Validate accepts. A UUID is 36 characters.
const MaxIDLength = 64

// Reasons Validate puts in InvalidError. ReasonMissing is the 2016 server's
// text, kept so old clients see the same answer.
const (
	ReasonMissing         = "id or actions does not exists"
	ReasonBadID           = "id is invalid"
	ReasonActionsNotArray = "actions is not a JSON array"
	ReasonActionsTooLarge = "actions is too large"
	ReasonActionsNotUTF8  = "actions is not valid UTF-8"
)

// InvalidError reports a paint that Validate rejected. Reason is safe to
// send to the client.
type InvalidError struct {
	Reason string
}

// Error implements error.
func (e *InvalidError) Error() string { return fmt.Sprintf("paint: invalid: %s", e.Reason) }

// Validate checks the client-made fields of p: ID is 1 to MaxIDLength
// characters of [A-Za-z0-9_-] (a UUID passes), and Actions is a JSON array
// of at most maxActionsBytes bytes (DefaultMaxActionsBytes when
// maxActionsBytes <= 0). It returns a *InvalidError or nil.
func Validate(p Paint, maxActionsBytes int) error {
	if maxActionsBytes <= 0 {
		maxActionsBytes = DefaultMaxActionsBytes
	}
	if p.ID == "" || p.Actions == "" {
		return &InvalidError{Reason: ReasonMissing}
	}
	if err := ValidateID(p.ID); err != nil {
		return err
	}
	// Size first: json.Valid on a huge body is wasted work.
	if len(p.Actions) > maxActionsBytes {
		return &InvalidError{Reason: ReasonActionsTooLarge}
	}
	return ValidateActions(p.Actions)
}

// ValidateID checks a paint id: 1 to MaxIDLength characters of
// [A-Za-z0-9_-] (a UUID passes). It returns a *InvalidError or nil.
func ValidateID(id string) error {
	if id == "" {
		return &InvalidError{Reason: ReasonMissing}
	}
	if len(id) > MaxIDLength {
		return &InvalidError{Reason: ReasonBadID}
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return &InvalidError{Reason: ReasonBadID}
		}
	}
	return nil
}

// ValidateActions checks that actions is one JSON array in valid UTF-8
// (encoding/json would otherwise turn bad bytes into U+FFFD unseen, and
// the drawing would change). It returns a *InvalidError or nil.
func ValidateActions(actions string) error {
	if !utf8.ValidString(actions) {
		return &InvalidError{Reason: ReasonActionsNotUTF8}
	}
	trimmed := strings.TrimLeft(actions, jsonSpace)
	if len(trimmed) == 0 || trimmed[0] != '[' || !json.Valid([]byte(actions)) {
		return &InvalidError{Reason: ReasonActionsNotArray}
	}
	return nil
}

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

// Concat returns the JSON array of the elements of the array stored
// followed by those of the array added, keeping both texts as they are
// except for the whitespace around stored and at the join:
// "[a,b]" + "[c]" = "[a,b,c]".
// added must be a JSON array (ValidateActions). stored was written by a
// save, so it is one too, with any whitespace around and inside it; a
// document another program wrote may hold anything, and Concat answers
// ErrNotArray for a stored text that does not open and close as an array
// rather than join to it.
func Concat(stored, added string) (string, error) {
	head := strings.Trim(stored, jsonSpace)
	if len(head) < 2 || head[0] != '[' || head[len(head)-1] != ']' {
		return "", ErrNotArray
	}
	head = strings.TrimRight(head[:len(head)-1], jsonSpace) // drop ']'
	tail := strings.TrimLeft(added, jsonSpace)
	tail = strings.TrimLeft(tail[1:], jsonSpace) // drop '['
	if tail[0] == ']' {
		return stored, nil // nothing added
	}
	if len(head) == 1 {
		return head + tail, nil // stored was empty: no comma
	}
	return head + "," + tail, nil
}
