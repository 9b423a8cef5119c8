package storetest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

const (
	appID  = "wxstoretest000001"
	secret = "storetest-secret"
)

// Instances is two TokenSources of one app as two server instances would
// have them, each with its own Store value on one shared backend, and the
// simulated WeChat they call.
type Instances struct {
	Sim     *wechatsim.Sim
	Clients [2]*wechat.Client
}

// NewInstances starts a simulator and makes two clients whose token
// sources use stores a and b (which must share their data).
func NewInstances(t *testing.T, a, b wechat.Store) *Instances {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	in := &Instances{Sim: sim}
	for i, s := range []wechat.Store{a, b} {
		c := &wechat.Client{AppID: appID, Secret: secret, BaseURL: srv.URL}
		c.Tokens = wechat.NewTokenSource(c, wechat.TokenOptions{Store: s, KeyPrefix: "storetest:" + t.Name() + ":"})
		in.Clients[i] = c
	}
	return in
}

// PhoneCodes makes n getPhoneNumber codes of n users who logged in, and
// returns them with the users' openids.
func (in *Instances) PhoneCodes(t *testing.T, n int) (codes, openIDs []string) {
	t.Helper()
	for i := range n {
		user := fmt.Sprintf("user%d", i)
		if _, err := in.Sim.Login(appID, user); err != nil {
			t.Fatal(err)
		}
		code, _, _, err := in.Sim.PhoneCode(appID, user)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
		openIDs = append(openIDs, wechatsim.OpenID(appID, user))
	}
	return codes, openIDs
}

// PhoneCalls sends one PhoneNumber call per code at once, alternating
// between the two instances, and returns every error.
func (in *Instances) PhoneCalls(codes, openIDs []string) []error {
	errs := make([]error, len(codes))
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			_, errs[i] = in.Clients[i%2].PhoneNumber(context.Background(), codes[i], openIDs[i])
		})
	}
	wg.Wait()
	return errs
}

// RunShared checks TokenSources sharing a Store through two instances:
// newPair returns two Store values on one fresh shared backend.
func RunShared(t *testing.T, newPair func(t *testing.T) (a, b wechat.Store)) {
	t.Run("ConcurrentCallsOneFetch", func(t *testing.T) {
		a, b := newPair(t)
		in := NewInstances(t, a, b)
		codes, ids := in.PhoneCodes(t, 40)
		for i, err := range in.PhoneCalls(codes, ids) {
			if err != nil {
				t.Errorf("call %d: got %v, want a phone number", i, err)
			}
		}
		if got := in.Sim.Stats().StableTokens; got != 1 {
			t.Errorf("got %d token fetches, want 1", got)
		}
		if got := in.Sim.Stats().PhoneNumbers; got != 40 {
			t.Errorf("got %d paid calls, want 40", got)
		}
	})
	t.Run("RotatedBehindTheirBack", func(t *testing.T) {
		a, b := newPair(t)
		in := NewInstances(t, a, b)
		codes, ids := in.PhoneCodes(t, 42)
		// Both instances hold the token before it rotates.
		for i, err := range in.PhoneCalls(codes[:2], ids[:2]) {
			if err != nil {
				t.Fatalf("warm-up call %d: %v", i, err)
			}
		}
		before := [2]int64{in.Clients[0].Tokens.Stats().Fetches, in.Clients[1].Tokens.Stats().Fetches}
		in.Sim.RotateTokens("")
		for i, err := range in.PhoneCalls(codes[2:], ids[2:]) {
			if err != nil {
				t.Errorf("call %d: got %v, want a phone number", i, err)
			}
		}
		for i, c := range in.Clients {
			if got := c.Tokens.Stats().Fetches - before[i]; got > 1 {
				t.Errorf("instance %d: got %d refetches, want at most 1", i, got)
			}
		}
		if got := in.Sim.Stats().StableTokens; got > 3 {
			t.Errorf("got %d token fetches in all, want at most 3 (1 + 1 per instance)", got)
		}
		if got := in.Sim.Stats().PhoneNumbers; got != 42 {
			t.Errorf("got %d paid calls, want 42 (a refused token is not a paid call)", got)
		}
	})
}
