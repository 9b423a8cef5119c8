package account

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wxsession"
)

// maxPhoneCode bounds a getPhoneNumber code (WeChat's are 64 hex
// characters); a longer one is refused before WeChat is asked.
const maxPhoneCode = 512

// phoneAnswer is the answer of /session/phone.
type phoneAnswer struct {
	PhoneNumber     string `json:"phoneNumber"`
	PurePhoneNumber string `json:"purePhoneNumber"`
	CountryCode     string `json:"countryCode"`
}

// phone serves POST {base}/session/phone {"code"}. A code is exchanged
// (and paid for) once: the stored answer is what its user gets when the
// code comes again, and no one else ever gets it.
func (s *Service) phone(w http.ResponseWriter, r *http.Request) {
	openID, ok := user(w, r)
	if !ok {
		return
	}
	var in struct {
		Code string `json:"code"`
	}
	if !s.readJSON(w, r, maxJSONBody, &in) {
		return
	}
	if in.Code == "" || len(in.Code) > maxPhoneCode {
		api.Fail(w, http.StatusBadRequest, ReasonPhoneCode)
		return
	}
	if s.cfg.Phones == nil {
		api.Fail(w, http.StatusServiceUnavailable, ReasonNotConfigured)
		return
	}
	hash := profile.CodeHash(in.Code)
	owner, ph, err := s.phones.do(r.Context(), hash, func() (string, profile.Phone, error) {
		// In the flight, so that a request arriving just after another
		// stored the answer finds it rather than spending the code again.
		owner, ph, found, err := s.cfg.Store.PhoneByCode(r.Context(), hash)
		if err != nil || found {
			return owner, ph, err
		}
		ph, err = s.exchangePhone(r.Context(), in.Code, hash, openID)
		if we := (*wechat.Error)(nil); errors.As(err, &we) && we.Code == wechat.CodeCodeUsed {
			// Another instance may have spent the code a moment ago
			// (the same request sent twice, to two instances): its
			// answer is about to be stored.
			if owner, ph, found, lerr := s.awaitPhone(r.Context(), hash); found || lerr != nil {
				return owner, ph, lerr
			}
		}
		return openID, ph, err
	})
	switch {
	case errors.Is(err, profile.ErrCodeTaken) || (err == nil && owner != openID):
		api.Fail(w, http.StatusForbidden, ReasonPhoneCodeOther)
	case err != nil:
		s.phoneFailed(w, r, err)
	default:
		api.OK(w, phoneAnswer{PhoneNumber: ph.PhoneNumber, PurePhoneNumber: ph.PurePhoneNumber, CountryCode: ph.CountryCode})
	}
}

// phoneWait bounds how long a phone code WeChat calls used is looked for
// in the store, where the instance that spent it stores its answer right
// after WeChat's.
const phoneWait = 3 * time.Second

// awaitPhone looks for the stored answer of the phone code hash until it
// is found, phoneWait has passed, or ctx ends.
func (s *Service) awaitPhone(ctx context.Context, hash string) (owner string, ph profile.Phone, found bool, err error) {
	deadline := time.Now().Add(phoneWait)
	for {
		owner, ph, found, err = s.cfg.Store.PhoneByCode(ctx, hash)
		if found || err != nil || time.Now().After(deadline) {
			return owner, ph, found, err
		}
		select {
		case <-ctx.Done():
			return "", profile.Phone{}, false, nil
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exchangePhone asks WeChat and stores the answer. Once asked, it goes on
// when the client hangs up (bounded by PhoneTimeout): the call is paid,
// and its retry must find the answer stored.
func (s *Service) exchangePhone(ctx context.Context, code, hash, openID string) (profile.Phone, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.PhoneTimeout)
	defer cancel()
	n, err := s.cfg.Phones.PhoneNumber(ctx, code, openID)
	if err != nil {
		return profile.Phone{}, err
	}
	s.cfg.OnPaidCall()
	ph := profile.Phone{PhoneNumber: n.PhoneNumber, PurePhoneNumber: n.PurePhoneNumber, CountryCode: n.CountryCode, CodeHash: hash}
	if err := s.cfg.Store.SavePhone(ctx, openID, ph); err != nil {
		return profile.Phone{}, err
	}
	return ph, nil
}

// phoneFailed maps an exchange failure to a status (protocol-v2.md,
// "Statuses for WeChat's answers"). A refused phone code is the client's
// to fix by asking the user again (400), not by logging in again, so it
// is not the login's 401 ERR_SESSION_KEY_EXCHANGE_FAILED.
func (s *Service) phoneFailed(w http.ResponseWriter, r *http.Request, err error) {
	var we *wechat.Error
	switch {
	case errors.As(err, &we):
		switch we.Code {
		case wechat.CodeInvalidCode, wechat.CodeCodeUsed, wechat.CodeRiskyUser:
			api.Fail(w, http.StatusBadRequest, ReasonPhoneCode)
		case wechat.CodeInvalidOpenID:
			// WeChat: the code is not this openid's.
			api.Fail(w, http.StatusForbidden, ReasonPhoneCodeOther)
		case wechat.CodeSystemBusy, wechat.CodeRateLimited, wechat.CodeDailyQuota,
			wechat.CodeInvalidToken, wechat.CodeInvalidTokenFormat, wechat.CodeTokenExpired, wechat.CodeMissingToken:
			s.cfg.Logger.WarnContext(r.Context(), "phone number: wechat refused", "err", err)
			api.Fail(w, http.StatusServiceUnavailable, ReasonWeChatDown)
		default:
			s.cfg.Logger.WarnContext(r.Context(), "phone number: unexpected wechat error", "err", err)
			api.Fail(w, http.StatusBadGateway, ReasonWeChatMalformed)
		}
	case errors.Is(err, wechat.ErrBadAnswer):
		s.cfg.Logger.WarnContext(r.Context(), "phone number: malformed wechat answer", "err", err)
		api.Fail(w, http.StatusBadGateway, ReasonWeChatMalformed)
	case errors.Is(err, wechat.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		s.cfg.Logger.WarnContext(r.Context(), "phone number: wechat unavailable", "err", err)
		api.Fail(w, http.StatusServiceUnavailable, ReasonWeChatDown)
	case errors.Is(err, profile.ErrUnavailable):
		s.storeFailed(w, r, err)
	default:
		// The token store (Redis) down, a store fault: retry later.
		s.cfg.Logger.ErrorContext(r.Context(), "phone number", "err", err)
		api.Fail(w, http.StatusServiceUnavailable, ReasonWeChatDown)
	}
}

// decrypt serves POST {base}/session/decrypt {"encryptedData","iv"}.
func (s *Service) decrypt(w http.ResponseWriter, r *http.Request) {
	if _, ok := user(w, r); !ok {
		return
	}
	var in struct {
		EncryptedData string `json:"encryptedData"`
		IV            string `json:"iv"`
	}
	// The body holds encryptedData and a few small fields besides.
	if !s.readJSON(w, r, MaxEncryptedData+maxJSONBody, &in) {
		return
	}
	if len(in.EncryptedData) > MaxEncryptedData {
		api.Fail(w, http.StatusRequestEntityTooLarge, ReasonDataTooLarge)
		return
	}
	if s.cfg.Keys == nil {
		api.Fail(w, http.StatusServiceUnavailable, ReasonNotConfigured)
		return
	}
	data, err := s.cfg.Keys.Decrypt(r.Context(), in.EncryptedData, in.IV)
	switch {
	case errors.Is(err, wechat.ErrSessionKeyStale), errors.Is(err, wxsession.ErrSessionKeyStale):
		wxsession.WriteError(w, http.StatusUnauthorized, wxsession.ReasonSessionKeyStale, "session_key no longer valid: log in again")
	case errors.Is(err, wechat.ErrDecrypt):
		api.Fail(w, http.StatusBadRequest, decryptReason(err))
	case err != nil:
		s.cfg.Logger.WarnContext(r.Context(), "decrypt", "err", err)
		api.Fail(w, http.StatusServiceUnavailable, ReasonWeChatDown)
	default:
		api.OK(w, jsonObject(data))
	}
}

// decryptReasons tell a client which input Decrypt refused. The texts are
// wechat's sentinels', which carry no data.
var decryptReasons = []error{wechat.ErrBadBase64, wechat.ErrBadKey, wechat.ErrBadIV, wechat.ErrBadLength,
	wechat.ErrBadPadding, wechat.ErrNotJSON, wechat.ErrWatermark}

func decryptReason(err error) string {
	for _, e := range decryptReasons {
		if errors.Is(err, e) {
			return ReasonDecrypt + ": " + e.Error()[len("wechat: "):]
		}
	}
	return ReasonDecrypt
}

// jsonObject is decrypted JSON, written into the envelope as it is.
type jsonObject []byte

func (j jsonObject) MarshalJSON() ([]byte, error) { return j, nil }
