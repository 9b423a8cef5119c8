package paint

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	if len(p.ID) > MaxIDLength {
		return &InvalidError{Reason: ReasonBadID}
	}
	for i := 0; i < len(p.ID); i++ {
		c := p.ID[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return &InvalidError{Reason: ReasonBadID}
		}
	}
	// Size first: json.Valid on a huge body is wasted work.
	if len(p.Actions) > maxActionsBytes {
		return &InvalidError{Reason: ReasonActionsTooLarge}
	}
	b := []byte(p.Actions)
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' || !json.Valid(b) {
		return &InvalidError{Reason: ReasonActionsNotArray}
	}
	return nil
}
