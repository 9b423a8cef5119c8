package deploy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/testenv"
)

const host = "yibi.example.com"

// render returns the shipped site config with test ports, certificate paths
// and upstream substituted. Every substitution must hit, so the test fails
// when the shipped file drifts from what it renders.
func render(t *testing.T, httpPort, httpsPort int, cert, key, upstream, webroot string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("nginx", "yibi.conf"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	subs := []struct{ old, new string }{
		{"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", httpPort)},
		{"listen [::]:80;", ""},
		{"listen 443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", httpsPort)},
		{"listen [::]:443 ssl http2;", ""},
		{"/etc/letsencrypt/live/yibi.example.com/fullchain.pem", cert},
		{"/etc/letsencrypt/live/yibi.example.com/privkey.pem", key},
		{"server 127.0.0.1:5757;", "server " + upstream + ";"},
		{"root /var/www/html;", "root " + webroot + ";"},
	}
	for _, sub := range subs {
		if !strings.Contains(s, sub.old) {
			t.Fatalf("deploy/nginx/yibi.conf no longer contains %q; update render", sub.old)
		}
		s = strings.ReplaceAll(s, sub.old, sub.new)
	}
	return s
}

// selfSigned writes a CA-less self-signed certificate for host and returns
// a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

func TestNginxSite(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/nginx"); e == nil {
			nginx = "/usr/sbin/nginx"
		} else {
			testenv.Unavailable(t, "nginx not found (apt-get install nginx)")
		}
	}

	type seen struct{ xff, realIP, proto, path string }
	got := make(chan seen, 10)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Real-IP"), r.Header.Get("X-Forwarded-Proto"), r.URL.Path}
		if r.Method == "POST" {
			io.Copy(io.Discard, r.Body)
		}
		io.WriteString(w, "backend ok")
	}))
	defer backend.Close()

	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	httpPort, httpsPort := testenv.FreePort(t), testenv.FreePort(t)
	site := render(t, httpPort, httpsPort, cert, key, strings.TrimPrefix(backend.URL, "http://"), dir)
	if err := os.WriteFile(filepath.Join(dir, "yibi.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody and fail to use the temp dir.
		user = "user root;"
	}
	main := fmt.Sprintf(`%s
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/yibi.conf;
}
`, user, dir)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf}
	if out, err := exec.Command(nginx, append(args, "-t")...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, nginx, append(args, "-g", "daemon off;")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	for _, p := range []int{httpPort, httpsPort} {
		if err := testenv.WaitPort(fmt.Sprintf("127.0.0.1:%d", p), 10*time.Second); err != nil {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("%v\nerror.log:\n%s", err, b)
		}
	}

	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			// The URL names the site's host; connections go to the test ports.
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				port := httpsPort
				if strings.HasSuffix(addr, ":80") {
					port = httpPort
				}
				return dialer.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
			},
			TLSClientConfig:   &tls.Config{RootCAs: pool},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	t.Run("HTTPRedirectsToHTTPS", func(t *testing.T) {
		resp, err := client.Get("http://" + host + "/applet/session/paints/list?x=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently {
			t.Errorf("status: got %d, want 301", resp.StatusCode)
		}
		if got, want := resp.Header.Get("Location"), "https://"+host+"/applet/session/paints/list?x=1"; got != want {
			t.Errorf("Location: got %q, want %q", got, want)
		}
	})

	t.Run("HTTPSReachesBackendWithClientIP", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "https://"+host+"/applet/session/paints/list", nil)
		req.Header.Set("X-Forwarded-For", "6.6.6.6")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "backend ok" {
			t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, "backend ok")
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol: got %s, want HTTP/2", resp.Proto)
		}
		if got, want := resp.Header.Get("Strict-Transport-Security"), "max-age=63072000"; got != want {
			t.Errorf("HSTS: got %q, want %q", got, want)
		}
		if v := resp.TLS.Version; v != tls.VersionTLS13 {
			t.Errorf("TLS version: got %x, want TLS 1.3", v)
		}
		s := <-got
		// nginx appends the connection's address to what the client sent;
		// Yibi's limiter trusts only the rightmost entry.
		want := seen{xff: "6.6.6.6, 127.0.0.1", realIP: "127.0.0.1", proto: "https", path: "/applet/session/paints/list"}
		if s != want {
			t.Errorf("backend saw %+v, want %+v", s, want)
		}
	})

	t.Run("OldTLSRefused", func(t *testing.T) {
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), &tls.Config{
			RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
		})
		if err == nil {
			c.Close()
			t.Fatal("TLS 1.1 handshake: got success, want failure")
		}
	})

	t.Run("BodyOver2MiBRefused", func(t *testing.T) {
		for _, tc := range []struct {
			size int
			want int
		}{{2<<20 - 1024, 200}, {2<<20 + 1, 413}} {
			resp, err := client.Post("https://"+host+"/applet/session/paints/save", "application/json", strings.NewReader(strings.Repeat("a", tc.size)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("body %d bytes: got %d, want %d", tc.size, resp.StatusCode, tc.want)
			}
			if tc.want == 200 {
				<-got
			}
		}
	})
}
