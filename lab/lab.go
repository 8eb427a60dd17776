// Package lab is seqack's lab: a web page where anyone can run a
// scenario — a built-in one or one built from a few controls — click any
// arrow of its sequence diagram to drop, delay, duplicate or corrupt that
// segment, and see at once how both sides react: the diagram, each
// side's states, the RFC 9293 state machine with the transitions taken,
// and why each step happened.
//
// Every change runs the real engine again in the simulator on the server
// (POST /api/run); nothing shown is canned. The page, its script and its
// styles are embedded in the binary and refer to nothing outside it, so
// the lab works offline.
//
// The API:
//
//	GET  /                    the page
//	GET  /api/scenarios       the built-in scenarios
//	POST /api/run             run a Request; a Run, or {"error", "field"} with status 400,
//	                          the error in the Request's language
//	GET  /api/export?format=svg|html|mermaid|text|pcap&run=REQUEST-JSON
//	                          the run as a file to download
package lab

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/trace/render"
)

//go:embed assets
var assets embed.FS

// maxRequest bounds a request body: a run request is a few hundred bytes.
const maxRequest = 64 << 10

// Server serves the lab. It holds no state between requests: each run
// builds its own simulated network, so any number may run at once.
type Server struct {
	mux *http.ServeMux
	// runs limits how many runs execute at once, so that a burst of
	// requests cannot take every core of the machine serving them.
	runs chan struct{}
}

// New returns a lab server.
func New() *Server {
	s := &Server{mux: http.NewServeMux(), runs: make(chan struct{}, 4)}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(static)
	s.mux.Handle("GET /", securityHeaders(files))
	s.mux.HandleFunc("GET /api/scenarios", s.scenarios)
	s.mux.HandleFunc("POST /api/run", s.run)
	s.mux.HandleFunc("GET /api/export", s.export)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// securityHeaders forbids the page any resource from elsewhere: the lab
// is self-contained, and this keeps it so.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// scenarioInfo is a built-in scenario as the page lists it.
type scenarioInfo struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
	// SummaryZH is Summary in Chinese.
	SummaryZH string `json:"summaryZh"`
}

func (s *Server) scenarios(w http.ResponseWriter, r *http.Request) {
	var list []scenarioInfo
	for _, sc := range scenario.All() {
		list = append(list, scenarioInfo{sc.Name, sc.Summary, sc.Describe("zh")})
	}
	writeJSON(w, http.StatusOK, map[string]any{"scenarios": list, "languages": render.ExplainLanguages()})
}

// errorReply is the body of a failed request.
type errorReply struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	var req Request
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply{Error: "bad request: " + err.Error()})
		return
	}
	run, err := s.execute(r, &req)
	if err != nil {
		writeError(w, err, req.Lang)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// execute runs req, waiting for a free slot.
func (s *Server) execute(r *http.Request, req *Request) (*Run, error) {
	select {
	case s.runs <- struct{}{}:
		defer func() { <-s.runs }()
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return execute(req)
}

// writeError answers with err: a bad setting as its field and the
// message in lang (see FieldError.Message), anything else as the
// server's failure.
func writeError(w http.ResponseWriter, err error, lang string) {
	var fe *FieldError
	if errors.As(err, &fe) {
		writeJSON(w, http.StatusBadRequest, errorReply{Error: fe.Message(lang), Field: fe.Field})
		return
	}
	writeJSON(w, http.StatusInternalServerError, errorReply{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// export sends a run as a file: the request is in the query string so
// that the page's download links are plain links.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	var req Request
	if err := json.Unmarshal([]byte(r.URL.Query().Get("run")), &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply{Error: "bad run parameter: " + err.Error(), Field: "run"})
		return
	}
	format := r.URL.Query().Get("format")
	run, err := s.execute(r, &req)
	if err != nil {
		writeError(w, err, req.Lang)
		return
	}
	title := run.Title + " — " + run.Summary
	if len(run.Faults) > 0 {
		title += "\nfaults: " + strings.Join(run.Faults, ", ")
	}
	opts := render.TextOptions{Left: run.Client, Right: run.Server, Absolute: req.Absolute}
	if sc, ok := scenario.Lookup(req.Scenario); ok && sc.Absolute {
		opts.Absolute = true
	}
	var b bytes.Buffer
	var ctype, ext string
	switch format {
	case "svg":
		ctype, ext = "image/svg+xml", "svg"
		err = render.SVG(&b, run.Events, render.SVGOptions{Left: opts.Left, Right: opts.Right, Absolute: opts.Absolute, Title: title, Lang: req.Lang})
	case "html":
		ctype, ext = "text/html; charset=utf-8", "html"
		err = render.HTML(&b, run.Events, render.HTMLOptions{Left: opts.Left, Right: opts.Right, Absolute: opts.Absolute, Title: title, Lang: req.Lang})
	case "mermaid":
		ctype, ext = "text/plain; charset=utf-8", "mmd"
		err = render.Mermaid(&b, run.Events, render.MermaidOptions{Left: opts.Left, Right: opts.Right, Absolute: opts.Absolute, Title: title})
	case "text":
		ctype, ext = "text/plain; charset=utf-8", "txt"
		opts.Title = title
		err = render.Text(&b, run.Events, opts)
	case "pcap":
		ctype, ext = "application/vnd.tcpdump.pcap", "pcap"
		err = render.Pcap(&b, run.Events)
	default:
		writeError(w, fieldErr("format", msgBadFormat, format), req.Lang)
		return
	}
	if err != nil {
		writeError(w, err, req.Lang)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="seqack-%s.%s"`, fileName(run.Title), ext))
	w.Write(b.Bytes())
}

// fileName keeps the letters, digits and dashes of a title.
func fileName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "run"
	}
	return b.String()
}
