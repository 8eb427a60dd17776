package lab

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"github.com/seqack/seqack/internal/netns"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

var update = flag.Bool("update", false, "save the browser test's screenshot as testdata/screenshot.png")

// findChromium returns the path of a Chromium (or Chrome) binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactDir is where the browser test leaves its screenshots: the
// directory SEQACK_ARTIFACTS names, else the test's temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("SEQACK_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestBrowser drives the lab in headless Chromium as a person would:
// pick lost-final-ack, click the client's last ACK and drop it, and see
// the server send its FIN yet again while the client waits in
// TIME_WAIT; check a bad setting is shown by its control, that the page
// fits a phone, and that the run downloads as HTML and SVG.
func TestBrowser(t *testing.T) {
	chrome := findChromium()
	if chrome == "" {
		if os.Getenv("SEQACK_REQUIRE_NETNS") == "1" {
			t.Fatal("chromium is not installed, and SEQACK_REQUIRE_NETNS=1 requires the browser test: apt-get install --no-install-recommends chromium")
		}
		t.Skip("chromium is not installed (apt-get install --no-install-recommends chromium); skipping the browser test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: New(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/"

	// The allocator's context bounds the whole test: when it ends, the
	// browser is stopped.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // Chromium refuses to run as root with its sandbox
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()

	// do runs steps, each given ten seconds, and on failure says where
	// the page was.
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, step := range steps {
			sctx, cancel := context.WithTimeout(bctx, 10*time.Second)
			err := chromedp.Do(sctx, step)
			cancel()
			if err != nil {
				page, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`"runs " + document.body.dataset.runs + "; focus " + (document.activeElement && document.activeElement.outerHTML.slice(0, 120)) + "; menu hidden " + document.getElementById("segmenu").hidden`))
				t.Fatalf("step %d: %v; page: %s", i, err, page)
			}
		}
	}
	// runs waits until the page has shown its n-th run.
	runs := func(n int) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.body.dataset.runs === "`+strconv.Itoa(n)+`"`, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			status, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.dataset.runs + " | " + document.getElementById("status").textContent + " | " + [...document.querySelectorAll(".error:not([hidden])")].map(e => e.id + ": " + e.textContent).join("; ")`))
			t.Fatalf("waiting for run %d: %v; page: %s", n, err, status)
		}
	}
	// The scenario is chosen as a person does it: the select changes,
	// and the page reacts to the change event.
	pick := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`(s => { s.value = "` + name + `"; s.dispatchEvent(new Event("change")); })(document.getElementById("scenario"))`)
	}

	downloads := t.TempDir()
	// The first call on a context starts the browser and ties its life to
	// that context: bctx, not the per-step contexts of do.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
	}); err != nil {
		t.Fatal(err)
	}
	do(chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS(`#diagram svg`)))
	runs(1)
	do(pick("handshake"))
	runs(2)
	do(pick("lost-final-ack"))
	runs(3)
	lastAck := eval[int](t, bctx, `(() => {
		const acks = [...document.querySelectorAll('#diagram .sq-seg[data-from="client"][data-kind="ack"]:not(.sq-lost)')];
		return acks.length ? Number(acks[acks.length - 1].dataset.id) : 0;
	})()`)
	if lastAck == 0 {
		t.Fatal("no ACK from the client in the diagram")
	}
	arrow := `#diagram .sq-seg[data-id="` + strconv.Itoa(lastAck) + `"]`

	// The keyboard first: the arrow is a button that Enter opens and
	// Escape closes.
	do(
		chromedp.Focus(chromedp.CSS(arrow)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#segmenu`)),
		chromedp.KeyEvent("\x1b"),
		chromedp.WaitNotVisible(chromedp.CSS(`#segmenu`)),
	)
	// Then the mouse: click the arrow, and drop it.
	do(
		chromedp.Click(chromedp.CSS(arrow+` line.sq-hit`)),
		chromedp.WaitVisible(chromedp.CSS(`#segmenu`)),
	)
	menuTitle := eval[string](t, bctx, `document.getElementById("segmenu-title").textContent`)
	t.Logf("dropping %s", menuTitle)
	if !strings.Contains(menuTitle, "client → server: . 2:2(0) ack 2") {
		t.Errorf("menu for %q", menuTitle)
	}
	do(chromedp.Click(chromedp.CSS(`#act-drop`)))
	runs(4)
	labels := eval[string](t, bctx, `[...document.querySelectorAll('#diagram .sq-label')].map(e => e.textContent).join("\n")`)
	states := eval[string](t, bctx, `[...document.querySelectorAll('#diagram .sq-state')].map(e => e.textContent).join(" ")`)
	finRetransmits := eval[int](t, bctx, `document.querySelectorAll('#diagram .sq-seg.sq-rexmit[data-from="server"][data-kind="fin"]').length`)
	faults := eval[string](t, bctx, `document.getElementById("faults").textContent`)
	if finRetransmits < 2 || strings.Count(labels, "F. 1:1(0) ack 2 (retransmit)") < 2 {
		t.Errorf("want the server's FIN retransmitted twice; labels:\n%s", labels)
	}
	if !strings.Contains(states, "TIME_WAIT") || !strings.Contains(faults, "drop client:ack#") {
		t.Errorf("states %q, faults %q", states, faults)
	}

	// The screenshot, as a person sees the page.
	dir := artifactDir(t)
	// Where the story is: the lost ACKs and the FINs that answer them.
	do(chromedp.Evaluate[chromedp.Void](`(() => {
		const y = document.querySelector("#diagram .sq-lost").getBoundingClientRect().top + window.scrollY;
		window.scrollTo(0, y - 260);
	})()`))
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	full, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	for name, png := range map[string][]byte{"lab.png": shot, "lab-full.png": full} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", "screenshot.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Downloads: the links fetch the same run, as files.
	for _, link := range []struct{ id, ext, want string }{{"dl-html", "html", "<!DOCTYPE html>"}, {"dl-svg", "svg", "<svg"}} {
		do(chromedp.Click(chromedp.CSS(`#` + link.id)))
		body := waitForDownload(t, downloads, "seqack-lost-final-ack."+link.ext)
		if !strings.Contains(string(body), link.want) || strings.Count(string(body), "F. 1:1(0) ack 2 (retransmit)") < 2 {
			t.Errorf("%s download lacks the run:\n%.400s", link.ext, body)
		}
		if link.ext == "svg" {
			d := xml.NewDecoder(bytes.NewReader(body))
			for {
				if _, err := d.Token(); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatalf("downloaded SVG: %v", err)
				}
			}
		}
	}

	// The packets download as a pcap that tshark reads without complaint.
	do(chromedp.Click(chromedp.CSS(`#dl-pcap`)))
	waitForDownload(t, downloads, "seqack-lost-final-ack.pcap")
	netns.CheckCapture(t, filepath.Join(downloads, "seqack-lost-final-ack.pcap"))

	// A bad setting: the message appears next to the control.
	do(
		chromedp.SetValue(chromedp.CSS(`#msl`), "-5"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("msl").dispatchEvent(new Event("change"))`),
		chromedp.WaitVisible(chromedp.CSS(`#err-msl`)),
	)
	mslError := eval[string](t, bctx, `document.getElementById("err-msl").textContent`)
	invalid := eval[bool](t, bctx, `document.getElementById("msl").getAttribute("aria-invalid") === "true"`)
	if !strings.Contains(mslError, "out of range") || !invalid {
		t.Errorf("MSL error %q, marked invalid: %v", mslError, invalid)
	}
	// The box is in seconds, and so is what it says.
	if !strings.Contains(mslError, "-5 seconds") || strings.Contains(mslError, "ms") {
		t.Errorf("MSL error %q: want it in seconds", mslError)
	}

	// Random loss: the page says how many segments it lost, even when
	// the seed happens to lose none.
	do(chromedp.Evaluate[chromedp.Void](`(() => {
		document.getElementById("msl").value = "30";
		document.getElementById("msl").dispatchEvent(new Event("change"));
	})()`))
	runs(5)
	do(pick("custom"))
	runs(6)
	do(chromedp.Evaluate[chromedp.Void](`(e => { e.value = "20"; e.dispatchEvent(new Event("change")); })(document.getElementById("custom-loss"))`))
	runs(7)
	if status := eval[string](t, bctx, `document.getElementById("status").textContent`); !strings.Contains(status, "20% random loss") {
		t.Errorf("status %q does not say what the 20%% random loss did", status)
	}

	// Chinese: the words are translated, and the CJK font draws real
	// glyphs (not the same empty box for every character).
	do(chromedp.Evaluate[chromedp.Void](`(s => { s.value = "zh"; s.dispatchEvent(new Event("change")); })(document.getElementById("lang"))`))
	runs(8)
	hosts := eval[string](t, bctx, `[...document.querySelectorAll("#diagram .sq-host")].map(e => e.textContent).join(" ")`)
	if hosts != "客户端 服务器" {
		t.Errorf("host names in Chinese: %q", hosts)
	}
	if !eval[bool](t, bctx, `(() => {
		const font = getComputedStyle(document.body).fontFamily;
		const draw = ch => {
			const c = document.createElement("canvas");
			c.width = c.height = 40;
			const g = c.getContext("2d");
			g.font = "32px " + font;
			g.fillText(ch, 2, 34);
			return Array.from(g.getImageData(0, 0, 40, 40).data).join(",");
		};
		return draw("三") !== draw("二") && draw("握") !== draw("手");
	})()`) {
		t.Error("Chinese characters are drawn as identical boxes: no CJK font (.ci/packages installs fonts-wqy-zenhei)")
	}

	// A phone: nothing is wider than the screen but the drawings, which
	// scroll in their own boxes.
	do(
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS(`#diagram svg`)),
	)
	if eval[bool](t, bctx, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Error("the page is wider than a phone's screen")
	}
	// Both lifelines are on the screen: the diagram is scaled to it.
	bothShown := `(() => {
		const d = document.getElementById("diagram");
		const lines = [...d.querySelectorAll(".sq-states")].map(g => g.getBoundingClientRect());
		return lines.length === 2 && lines.every(r => r.left >= 0 && r.right <= window.innerWidth) && d.scrollLeft === 0;
	})()`
	if !eval[bool](t, bctx, bothShown) {
		t.Error("on a phone, the diagram does not show both lifelines")
	}
	// Tapping an arrow far down opens the menu and leaves the arrow and
	// both lifelines where they were.
	tapped := `#diagram .sq-seg:last-of-type`
	do(chromedp.Click(chromedp.CSS(tapped+` line.sq-hit`)), chromedp.WaitVisible(chromedp.CSS(`#segmenu`)))
	if !eval[bool](t, bctx, bothShown) {
		t.Error("tapping an arrow moved the lifelines off the screen")
	}
	if !eval[bool](t, bctx, `(r => r.bottom > 0 && r.top < window.innerHeight)(document.querySelector("`+tapped+`").getBoundingClientRect())`) {
		t.Error("tapping an arrow scrolled it off the screen")
	}
	phone, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lab-phone.png")
	os.WriteFile(path, phone, 0o644)
	t.Logf("screenshot: %s", path)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitForDownload waits for the browser to finish writing name in dir.
func waitForDownload(t *testing.T, dir, name string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if body, err := os.ReadFile(filepath.Join(dir, name)); err == nil && len(body) > 0 {
			if _, err := os.Stat(filepath.Join(dir, name+".crdownload")); err != nil {
				return body
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	t.Fatalf("no download %s in %s (found %v)", name, dir, names)
	return nil
}
