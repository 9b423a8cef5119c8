package api

import (
	"net/http"
	"strings"
)

// probeMethods are the methods tried to find a path's Allow list.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// Allowed returns the methods mux serves r's path with when r's own
// method has no route of that path: the request matched no pattern, or
// only one without a method (a catch-all such as "/" that hands the rest
// to another table, which would answer 404). A path known for other
// methods is then a 405 with these in Allow, whatever table holds it;
// nil means r is routed (or the path is unknown).
func Allowed(mux *http.ServeMux, r *http.Request) []string {
	_, matched := mux.Handler(r)
	if hasMethod(matched) {
		return nil
	}
	var allow []string
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		probe := *r // mux.Handler reads only the method, host and path
		probe.Method = m
		if _, p := mux.Handler(&probe); p != "" && p != matched && (matched == "" || hasMethod(p)) {
			allow = append(allow, m)
		}
	}
	return allow
}

// hasMethod reports whether a ServeMux pattern names a method
// ("GET /x", not "/x").
func hasMethod(pattern string) bool {
	sp, sl := strings.IndexByte(pattern, ' '), strings.IndexByte(pattern, '/')
	return sp >= 0 && sp < sl
}

// MethodNotAllowed answers 405 in the paint envelope with allow in the
// Allow header.
func MethodNotAllowed(w http.ResponseWriter, allow []string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	Fail(w, http.StatusMethodNotAllowed, ReasonMethodInvalid)
}
