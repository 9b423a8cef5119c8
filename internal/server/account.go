package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/yibi/yibi/internal/account"
	"github.com/yibi/yibi/internal/metrics"
	"github.com/yibi/yibi/internal/mongo"
	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/internal/sqlite"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wxsession"
)

// account is the v2 account service of internal/account (profile,
// avatars, phone number, decrypt) on WeChat's API through wx. Profiles
// live in the paint store's database. keys is set once the session layer
// exists: the layer asks this service for profiles, the service asks the
// layer to decrypt.
func (s *Server) account(met *metrics.Metrics, base string, wx *wechat.Client, keys account.SessionKeys) (*account.Service, error) {
	store, err := s.profileStore()
	if err != nil {
		return nil, err
	}
	return account.New(account.Config{Store: store, BasePath: base, Phones: wx, Keys: keys,
		OnPaidCall: met.OnPaidCall, Logger: s.log}), nil
}

// sessionKeys decrypts with the session layer, set after both are built.
type sessionKeys struct{ m *wxsession.Middleware }

func (k *sessionKeys) Decrypt(ctx context.Context, encryptedData, iv string) ([]byte, error) {
	return k.m.Decrypt(ctx, encryptedData, iv)
}

// keyChecker asks WeChat's checksession whether a session_key still
// holds, for the session layer's Decrypt.
type keyChecker struct{ c *wechat.Client }

func (k keyChecker) CheckSessionKey(ctx context.Context, openID, sessionKey string) (bool, error) {
	err := k.c.CheckSession(ctx, openID, sessionKey)
	if errors.Is(err, wechat.ErrSessionKeyStale) {
		return false, nil
	}
	return err == nil, err
}

// profileStore is the profile.Store on the paint store's database.
func (s *Server) profileStore() (profile.Store, error) {
	switch st := s.paints.(type) {
	case *sqlite.Store:
		return sqlite.NewProfileStore(context.Background(), st)
	case *lazyPaints:
		return lazyProfiles{st}, nil
	}
	return nil, fmt.Errorf("server: no profile store for paint store %T", s.paints)
}

// lazyProfiles is the profile.Store on a MongoDB paint store that may
// connect after start: profile.ErrUnavailable until it has.
type lazyProfiles struct{ l *lazyPaints }

func (p lazyProfiles) store() (profile.Store, error) {
	st, err := p.l.get()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", profile.ErrUnavailable, err)
	}
	ms, ok := st.(*mongo.Store)
	if !ok {
		return nil, fmt.Errorf("server: paint store %T is not MongoDB", st)
	}
	return mongo.NewProfileStore(ms), nil
}

func (p lazyProfiles) Get(ctx context.Context, openID string) (profile.Profile, bool, error) {
	st, err := p.store()
	if err != nil {
		return profile.Profile{}, false, err
	}
	return st.Get(ctx, openID)
}

func (p lazyProfiles) Update(ctx context.Context, openID string, u profile.Update) (profile.Profile, error) {
	st, err := p.store()
	if err != nil {
		return profile.Profile{}, err
	}
	return st.Update(ctx, openID, u)
}

func (p lazyProfiles) SavePhone(ctx context.Context, openID string, ph profile.Phone) error {
	st, err := p.store()
	if err != nil {
		return err
	}
	return st.SavePhone(ctx, openID, ph)
}

func (p lazyProfiles) PhoneByCode(ctx context.Context, codeHash string) (string, profile.Phone, bool, error) {
	st, err := p.store()
	if err != nil {
		return "", profile.Phone{}, false, err
	}
	return st.PhoneByCode(ctx, codeHash)
}

func (p lazyProfiles) PutAvatar(ctx context.Context, a profile.Avatar) error {
	st, err := p.store()
	if err != nil {
		return err
	}
	return st.PutAvatar(ctx, a)
}

func (p lazyProfiles) Avatar(ctx context.Context, name string) (profile.Avatar, bool, error) {
	st, err := p.store()
	if err != nil {
		return profile.Avatar{}, false, err
	}
	return st.Avatar(ctx, name)
}

// handlerTransport answers HTTP requests with a handler in process: the
// development mode's WeChat client talks to the simulator without a port.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}
