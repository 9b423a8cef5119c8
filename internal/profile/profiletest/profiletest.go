// Package profiletest is the conformance suite for profile.Store: every
// implementation runs Run, so all stores keep the same contract.
package profiletest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/yibi/yibi/internal/profile"
)

// Run runs the suite. newStore is called once per subtest and must return
// a store on a fresh, empty database (closed by the caller's cleanup).
func Run(t *testing.T, newStore func(t *testing.T) profile.Store) {
	t.Helper()
	ctx := context.Background()
	str := func(s string) *string { return &s }

	t.Run("GetNotFound", func(t *testing.T) {
		s := newStore(t)
		_, found, err := s.Get(ctx, "nobody")
		if err != nil || found {
			t.Fatalf("got found %v err %v, want false nil", found, err)
		}
	})
	t.Run("UpdateKeepsOtherFields", func(t *testing.T) {
		s := newStore(t)
		// Stored exactly: spaces, emoji, CJK, 32 characters of 4 bytes.
		nicks := []string{" 一笔 ", "😀 émoji", string(bytes.Repeat([]byte("𝄞"), 32))}
		for _, nick := range nicks {
			p, err := s.Update(ctx, "alice", profile.Update{NickName: str(nick)})
			if err != nil {
				t.Fatal(err)
			}
			if p.NickName != nick || p.OpenID != "alice" {
				t.Errorf("got %+v, want nickName %q", p, nick)
			}
		}
		if _, err := s.Update(ctx, "alice", profile.Update{Avatar: str("0123456789abcdef0123456789abcdef.png")}); err != nil {
			t.Fatal(err)
		}
		got, found, err := s.Get(ctx, "alice")
		if err != nil || !found {
			t.Fatalf("got found %v err %v, want true nil", found, err)
		}
		want := profile.Profile{OpenID: "alice", NickName: nicks[len(nicks)-1], Avatar: "0123456789abcdef0123456789abcdef.png"}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if _, found, _ := s.Get(ctx, "bob"); found {
			t.Errorf("got bob found, want only alice")
		}
	})
	t.Run("ConcurrentUpdates", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 10 {
			wg.Go(func() {
				_, err := s.Update(ctx, "carol", profile.Update{NickName: str(fmt.Sprint("n", i))})
				errs <- err
			})
			wg.Go(func() {
				_, err := s.Update(ctx, "carol", profile.Update{Avatar: str("0123456789abcdef0123456789abcdef.jpg")})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, _, err := s.Get(ctx, "carol")
		if err != nil {
			t.Fatal(err)
		}
		if got.NickName == "" || got.Avatar == "" {
			t.Errorf("got %+v, want both fields kept by concurrent updates", got)
		}
	})
	t.Run("Phone", func(t *testing.T) {
		s := newStore(t)
		ph := profile.Phone{PhoneNumber: "+86 13800001111", PurePhoneNumber: "13800001111", CountryCode: "86", CodeHash: profile.CodeHash("code1")}
		if _, _, found, err := s.PhoneByCode(ctx, ph.CodeHash); err != nil || found {
			t.Fatalf("got found %v err %v, want false nil", found, err)
		}
		if err := s.SavePhone(ctx, "alice", ph); err != nil {
			t.Fatal(err)
		}
		owner, got, found, err := s.PhoneByCode(ctx, ph.CodeHash)
		if err != nil || !found || owner != "alice" || got != ph {
			t.Fatalf("got %q %+v %v %v, want alice %+v true nil", owner, got, found, err, ph)
		}
		p, _, err := s.Get(ctx, "alice")
		if err != nil || p.Phone != ph || !p.HasPhone() {
			t.Fatalf("got %+v %v, want phone %+v", p, err, ph)
		}
		t.Run("SameUserAgain", func(t *testing.T) {
			if err := s.SavePhone(ctx, "alice", ph); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
		t.Run("ErrCodeTaken", func(t *testing.T) {
			other := ph
			other.PurePhoneNumber = "13900000000"
			if err := s.SavePhone(ctx, "mallory", other); !errors.Is(err, profile.ErrCodeTaken) {
				t.Errorf("got %v, want ErrCodeTaken", err)
			}
			if p, found, _ := s.Get(ctx, "mallory"); found && p.HasPhone() {
				t.Errorf("got %+v, want no phone for mallory", p)
			}
			owner, got, _, _ := s.PhoneByCode(ctx, ph.CodeHash)
			if owner != "alice" || got != ph {
				t.Errorf("got %q %+v, want alice's record unchanged", owner, got)
			}
		})
		t.Run("NewCodeRebinds", func(t *testing.T) {
			ph2 := profile.Phone{PhoneNumber: "13800002222", PurePhoneNumber: "13800002222", CountryCode: "86", CodeHash: profile.CodeHash("code2")}
			if err := s.SavePhone(ctx, "alice", ph2); err != nil {
				t.Fatal(err)
			}
			p, _, _ := s.Get(ctx, "alice")
			if p.Phone != ph2 {
				t.Errorf("got %+v, want %+v", p.Phone, ph2)
			}
			// The first code still answers with its own number.
			if _, got, _, _ := s.PhoneByCode(ctx, ph.CodeHash); got != ph {
				t.Errorf("got %+v, want %+v", got, ph)
			}
		})
		t.Run("PhoneKeepsNickName", func(t *testing.T) {
			if _, err := s.Update(ctx, "dave", profile.Update{NickName: str("dave")}); err != nil {
				t.Fatal(err)
			}
			d := profile.Phone{PhoneNumber: "1", PurePhoneNumber: "1", CountryCode: "86", CodeHash: profile.CodeHash("d")}
			if err := s.SavePhone(ctx, "dave", d); err != nil {
				t.Fatal(err)
			}
			p, _, _ := s.Get(ctx, "dave")
			if p.NickName != "dave" || p.Phone != d {
				t.Errorf("got %+v, want nickName dave and phone %+v", p, d)
			}
		})
	})
	t.Run("ConcurrentSavePhoneOneOwner", func(t *testing.T) {
		s := newStore(t)
		ph := profile.Phone{PhoneNumber: "1", PurePhoneNumber: "1", CountryCode: "86", CodeHash: profile.CodeHash("race")}
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Go(func() { results[i] = s.SavePhone(ctx, fmt.Sprint("u", i), ph) })
		}
		wg.Wait()
		var ok int
		for _, err := range results {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, profile.ErrCodeTaken):
				t.Errorf("got %v, want nil or ErrCodeTaken", err)
			}
		}
		if ok != 1 {
			t.Errorf("got %d owners, want 1", ok)
		}
	})
	t.Run("Avatar", func(t *testing.T) {
		s := newStore(t)
		data := []byte("\x89PNG\r\n\x1a\n\x00binary\xff")
		a := profile.Avatar{Name: profile.AvatarName(data, "png"), ContentType: "image/png", Data: data}
		if _, found, err := s.Avatar(ctx, a.Name); err != nil || found {
			t.Fatalf("got found %v err %v, want false nil", found, err)
		}
		for range 2 { // the second is a no-op
			if err := s.PutAvatar(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		got, found, err := s.Avatar(ctx, a.Name)
		if err != nil || !found || got.Name != a.Name || got.ContentType != a.ContentType || !bytes.Equal(got.Data, a.Data) {
			t.Fatalf("got %+v %v %v, want %+v", got, found, err, a)
		}
	})
}
