package account

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/profile"
)

// saveProfile serves POST {base}/session/profile: multipart (wx.uploadFile:
// file part "avatar", field "nickName", either or both) or JSON
// {"nickName"}.
func (s *Service) saveProfile(w http.ResponseWriter, r *http.Request) {
	openID, ok := user(w, r)
	if !ok {
		return
	}
	var u profile.Update
	mt, _ := api.MediaType(r)
	switch {
	case mt == "application/json":
		var in struct {
			NickName *string `json:"nickName"`
		}
		if !s.readJSON(w, r, maxJSONBody, &in) {
			return
		}
		if in.NickName == nil {
			api.Fail(w, http.StatusBadRequest, ReasonNothingToSave)
			return
		}
		u.NickName = in.NickName
	case mt == "multipart/form-data":
		var ok bool
		if u, ok = s.readMultipart(w, r); !ok {
			return
		}
	default:
		api.Fail(w, http.StatusUnsupportedMediaType, ReasonContentType)
		return
	}
	if u.NickName != nil && profile.ValidNickName(*u.NickName) != nil {
		api.Fail(w, http.StatusBadRequest, ReasonNickName)
		return
	}
	p, err := s.cfg.Store.Update(r.Context(), openID, u)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	api.OK(w, s.view(p))
}

// readMultipart reads the parts of a profile upload as they stream in,
// never holding more than MaxAvatarBytes+1 bytes of the file, and stores
// the avatar. It answers failures itself.
func (s *Service) readMultipart(w http.ResponseWriter, r *http.Request) (profile.Update, bool) {
	var u profile.Update
	// The whole body is bounded too: parts other than the avatar (or a
	// second avatar) must not make the server read without end.
	const limit = profile.MaxAvatarBytes + multipartSlack
	if r.ContentLength > limit {
		// Before the first read: "Expect: 100-continue" gets 413 at once.
		api.Fail(w, http.StatusRequestEntityTooLarge, api.ReasonTooLarge)
		return u, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		api.Fail(w, http.StatusBadRequest, ReasonBadBody)
		return u, false
	}
	var file []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.bodyFailed(w, r, err)
			return u, false
		}
		switch part.FormName() {
		case "avatar":
			if file != nil {
				api.Fail(w, http.StatusBadRequest, ReasonBadBody)
				return u, false
			}
			// One buffer of the limit and a byte, read into once: a
			// growing buffer would allocate about twice as much.
			buf := make([]byte, profile.MaxAvatarBytes+1)
			n, err := io.ReadFull(part, buf)
			switch {
			case n > profile.MaxAvatarBytes:
				api.Fail(w, http.StatusRequestEntityTooLarge, ReasonAvatarTooLarge)
				return u, false
			case err != nil && err != io.ErrUnexpectedEOF && err != io.EOF:
				s.bodyFailed(w, r, err)
				return u, false
			}
			file = buf[:n:n]
		case "nickName":
			b, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				s.bodyFailed(w, r, err)
				return u, false
			}
			if len(b) > maxField {
				api.Fail(w, http.StatusBadRequest, ReasonNickName)
				return u, false
			}
			nick := string(b)
			u.NickName = &nick
		default:
			// wx.uploadFile sends only what the mini program put in
			// formData; anything else is read past (within the bound).
			if _, err := io.Copy(io.Discard, part); err != nil {
				s.bodyFailed(w, r, err)
				return u, false
			}
		}
	}
	if file == nil && u.NickName == nil {
		api.Fail(w, http.StatusBadRequest, ReasonNothingToSave)
		return u, false
	}
	// Check the nickName before the costly decode.
	if u.NickName != nil && profile.ValidNickName(*u.NickName) != nil {
		api.Fail(w, http.StatusBadRequest, ReasonNickName)
		return u, false
	}
	if file != nil {
		name, ok := s.storeAvatar(w, r, file)
		if !ok {
			return u, false
		}
		u.Avatar = &name
	}
	return u, true
}

// bodyFailed answers a multipart body that could not be read, as the
// paint API answers its bodies (api.FailBody): 413 past the bound, 408 for
// a body that stalls, 400 otherwise (truncated, not multipart).
func (s *Service) bodyFailed(w http.ResponseWriter, r *http.Request, err error) {
	api.FailBody(w, r, s.cfg.Logger, api.BodyReadError(err))
}

// storeAvatar turns file into an avatar, a few at a time (Config.Decodes),
// and stores it.
func (s *Service) storeAvatar(w http.ResponseWriter, r *http.Request, file []byte) (string, bool) {
	select {
	case s.decodes <- struct{}{}:
	case <-r.Context().Done():
		// The client went away while waiting for a decoder: its choice.
		api.Fail(w, api.StatusClientClosed, api.ReasonClientClosed)
		return "", false
	}
	a, err := profile.NewAvatar(file)
	<-s.decodes
	switch {
	case errors.Is(err, profile.ErrAvatarType):
		api.Fail(w, http.StatusUnsupportedMediaType, ReasonAvatarType)
		return "", false
	case errors.Is(err, profile.ErrAvatarImage):
		api.Fail(w, http.StatusBadRequest, ReasonAvatarImage)
		return "", false
	case err != nil:
		s.cfg.Logger.ErrorContext(r.Context(), "avatar", "err", err)
		api.Fail(w, http.StatusInternalServerError, api.ReasonInternal)
		return "", false
	}
	if err := s.cfg.Store.PutAvatar(r.Context(), a); err != nil {
		s.storeFailed(w, r, err)
		return "", false
	}
	return a.Name, true
}

// avatar serves GET {base}/session/avatars/<name>: public (the name is
// the content's hash, unguessable without the content), immutable.
func (s *Service) avatar(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !profile.ValidAvatarName(name) {
		api.Fail(w, http.StatusNotFound, api.ReasonNotFound)
		return
	}
	etag := `"` + name + `"`
	h := w.Header()
	if r.Header.Get("If-None-Match") == etag {
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	a, found, err := s.cfg.Store.Avatar(r.Context(), name)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if !found {
		api.Fail(w, http.StatusNotFound, api.ReasonNotFound)
		return
	}
	h.Set("Content-Type", profile.ContentType(name))
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	// An image opened by itself must not run anything, whatever it holds.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.Data)
	}
}
