package otelred_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// interfacesOf lists the optional interfaces a handler sees on w.
func interfacesOf(w http.ResponseWriter) []string {
	var got []string
	if _, ok := w.(http.Flusher); ok {
		got = append(got, "Flusher")
	}
	if _, ok := w.(http.Hijacker); ok {
		got = append(got, "Hijacker")
	}
	if _, ok := w.(io.ReaderFrom); ok {
		got = append(got, "ReaderFrom")
	}
	if _, ok := w.(http.Pusher); ok {
		got = append(got, "Pusher")
	}
	if _, ok := w.(io.StringWriter); ok {
		got = append(got, "StringWriter")
	}
	return got
}

// TestInterfacesMatchTheServer runs the same handler with and without the
// middleware on real HTTP/1.1 and HTTP/2 servers: the handler must see the
// same optional interfaces either way, present and absent.
func TestInterfacesMatchTheServer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		http2 bool
		want  string
	}{
		{"HTTP/1.1 has Flusher, Hijacker, ReaderFrom and StringWriter but no Pusher", false, "Flusher Hijacker ReaderFrom StringWriter"},
		{"HTTP/2 has Flusher, Pusher and StringWriter but no Hijacker or ReaderFrom", true, "Flusher Pusher StringWriter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, wrapped := range []bool{false, true} {
				h := newHarness(t)
				var seen string
				var handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					seen = strings.Join(interfacesOf(w), " ")
				})
				if wrapped {
					handler = h.mw(handler)
				}
				s := httptest.NewUnstartedServer(handler)
				s.EnableHTTP2 = tc.http2
				s.StartTLS()
				resp, err := s.Client().Get(s.URL)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				s.Close()
				if tc.http2 != (resp.ProtoMajor == 2) {
					t.Fatalf("served over %s", resp.Proto)
				}
				if seen != tc.want {
					t.Errorf("wrapped=%v: handler saw %q, want %q", wrapped, seen, tc.want)
				}
			}
		})
	}
}

// TestResponseControllerWorksThroughTheWrapper uses every
// http.ResponseController method through the middleware on a real server.
func TestResponseControllerWorksThroughTheWrapper(t *testing.T) {
	h := newHarness(t)
	errs := make(chan error, 8)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rc", func(w http.ResponseWriter, _ *http.Request) {
		rc := http.NewResponseController(w)
		errs <- rc.SetReadDeadline(time.Now().Add(time.Minute))
		errs <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
		errs <- rc.EnableFullDuplex()
		w.WriteHeader(http.StatusAccepted)
		errs <- rc.Flush()
		conn, brw, err := rc.Hijack()
		errs <- err
		if err == nil {
			brw.WriteString("0\r\n\r\n") // end the chunked body the flush began
			brw.Flush()
			conn.Close()
		}
	})
	s := h.server(mux)
	resp := h.do(s, "GET", "/rc")
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("ResponseController through the middleware: %v", err)
		}
	}
	if resp == nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("client response = %v, want 202", resp)
	}
	wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/rc", 202, ""): 1})
}

// TestHijackWithoutStatusRecords101 upgrades a connection the way WebSocket
// libraries do: hijack first, then write the 101 on the raw connection.
func TestHijackWithoutStatusRecords101(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, _ *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n') // echo one line over the upgraded connection
		brw.WriteString(line)
		brw.Flush()
	})
	s := h.server(mux)
	req, _ := http.NewRequest("GET", s.URL+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	h.served.Add(1)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	rwc := resp.Body.(io.ReadWriteCloser)
	io.WriteString(rwc, "ping\n")
	line, err := bufio.NewReader(rwc).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Errorf("echo over the upgraded connection = %q, %v", line, err)
	}
	rwc.Close()
	h.served.Wait()
	wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/ws", 101, ""): 1})
}
