package redpage

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
)

// The page: one HTML document with its style and script inline, so that
// it loads nothing but its own feed.
var (
	//go:embed assets/page.html
	pageHTML string
	//go:embed assets/page.css
	pageCSS string
	//go:embed assets/page.js
	pageJS string
)

// page is the rendered page and its Content-Security-Policy, which lets
// only this script and style run and the page fetch only from its own
// origin: even a name that got past the escaping could not run.
var page, pagePolicy = renderPage()

func renderPage() ([]byte, string) {
	t := template.Must(template.New("page").Parse(pageHTML))
	var b bytes.Buffer
	err := t.Execute(&b, struct {
		Style  template.CSS
		Script template.JS
	}{template.CSS(pageCSS), template.JS(pageJS)})
	if err != nil {
		panic(err)
	}
	policy := "default-src 'none'; script-src '" + hash(pageJS) + "'; style-src '" + hash(pageCSS) +
		"'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
	return b.Bytes(), policy
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func servePage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pagePolicy)
	_, _ = w.Write(page)
}
