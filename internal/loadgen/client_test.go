package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		ok     bool
		kind   string
	}{
		{"OKSuccessEnvelope", 200, `{"code":0,"msg":"success","data":[]}`, true, ""},
		{"FailEnvelope", 503, `{"code":-1,"msg":"fail","error":{"reason":"store unavailable"}}`, false, `HTTP 503, fail "store unavailable"`},
		{"SessionEnvelope", 401, `{"F2C224D4-2BCE-4C64-AF9F-A6D872000D1A":1,"reason":"ERR_SESSION_EXPIRED","error":{"name":"Error","message":"x"}}`, false, "HTTP 401, session ERR_SESSION_EXPIRED"},
		{"SessionEnvelopeWith200", 200, `{"F2C224D4-2BCE-4C64-AF9F-A6D872000D1A":1,"error":{"message":"bad rawData"}}`, false, "HTTP 200, session no reason"},
		{"SuccessBodyWithErrorStatus", 500, `{"code":0}`, false, "HTTP 500 with a success body"},
		{"NotJSON", 502, `<html>Bad Gateway</html>`, false, "HTTP 502, not JSON"},
		{"NoEnvelope", 404, `{"message":"not found"}`, false, "HTTP 404, no envelope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.status, []byte(tt.body))
			if got.ok != tt.ok || got.kind != tt.kind || !got.answered {
				t.Errorf("got ok %v kind %q answered %v, want %v %q true", got.ok, got.kind, got.answered, tt.ok, tt.kind)
			}
		})
	}
}

func TestTransportKind(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Timeout", fmt.Errorf("get: %w", context.DeadlineExceeded), "timeout"},
		{"Refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "transport: connection refused"},
		{"Reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, "transport: connection reset"},
		{"Closed", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), "transport: connection closed"},
		{"OtherNetOp", &net.OpError{Op: "dial", Err: fmt.Errorf("no route")}, "transport: dial"},
		{"Other", fmt.Errorf("wechatsim: HTTP 500"), "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transportKind(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
