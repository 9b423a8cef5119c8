package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/yibi/yibi/internal/account"
	"github.com/yibi/yibi/internal/mongo"
	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/internal/sqlite"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

// accountRoutes wraps next (the paint API) in the v2 account routes of
// internal/account: profile, avatars, phone number, decrypt. Profiles live
// in the paint store's database. The access token is kept in memory here:
// with Redis configured it belongs in internal/redistoken on the
// sessions' client, so that every instance shares one token.
// /session/decrypt answers 503 until the session library gives access to
// the request's session_key (account.Config.Keys).
func (s *Server) accountRoutes(base string, next http.Handler) (http.Handler, error) {
	store, err := s.profileStore()
	if err != nil {
		return nil, err
	}
	var c *wechat.Client
	if s.sim != nil {
		// Development mode: WeChat is the simulator, in process, with
		// the app routes() gave it.
		appID, secret := s.cfg.AppID, s.cfg.AppSecret
		if appID == "" {
			appID, secret = wechatsim.DevAppID, wechatsim.DevSecret
		}
		c = &wechat.Client{AppID: appID, Secret: secret, BaseURL: "http://wechatsim.invalid",
			HTTPClient: &http.Client{Transport: handlerTransport{s.sim}}}
	} else {
		c = &wechat.Client{AppID: s.cfg.AppID, Secret: s.cfg.AppSecret, BaseURL: s.cfg.WeChatAPIURL, HTTPClient: wechatHTTPClient()}
	}
	c.Tokens = wechat.NewTokenSource(c, wechat.TokenOptions{})
	svc := account.New(account.Config{Store: store, BasePath: base, Phones: c, Logger: s.log})
	return svc.Handler(next), nil
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
