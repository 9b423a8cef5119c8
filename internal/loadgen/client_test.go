package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
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

func TestBackoffDelay(t *testing.T) {
	lowest := func(int64) int64 { return 0 }
	highest := func(n int64) int64 { return n - 1 }
	date := time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		n          int
		retryAfter string
		randN      func(int64) int64
		min, max   time.Duration
	}{
		{"FirstLowest", 0, "", lowest, 50 * time.Millisecond, 50 * time.Millisecond},
		{"FirstHighest", 0, "", highest, 99 * time.Millisecond, 100 * time.Millisecond},
		{"Doubles", 3, "", lowest, 400 * time.Millisecond, 400 * time.Millisecond},
		{"Capped", 40, "", highest, 4900 * time.Millisecond, 5 * time.Second},
		{"RetryAfterSeconds", 0, "2", lowest, 2 * time.Second, 2 * time.Second},
		{"RetryAfterJittered", 0, "2", highest, 2*time.Second + 49*time.Millisecond, 2*time.Second + 50*time.Millisecond},
		{"RetryAfterDate", 0, date, lowest, 8 * time.Second, 10 * time.Second},
		{"RetryAfterBounded", 0, "86400", lowest, maxRetryAfter, maxRetryAfter},
		{"RetryAfterShorterThanStep", 5, "1", lowest, 1600 * time.Millisecond, 1600 * time.Millisecond},
		{"RetryAfterGarbage", 0, "soon", lowest, 50 * time.Millisecond, 50 * time.Millisecond},
		{"RetryAfterNegative", 0, "-5", lowest, 50 * time.Millisecond, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := backoffDelay(tt.n, tt.retryAfter, tt.randN)
			if got < tt.min || got > tt.max {
				t.Errorf("got %v, want %v to %v", got, tt.min, tt.max)
			}
		})
	}
}
