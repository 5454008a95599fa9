/// The status page: one self-contained HTML document (no external assets) that draws
/// `/status` and refreshes itself.
enum StatusPage {
    static let html = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Strait</title></head>
        <body><h1>Strait</h1><pre id="status">loading</pre>
        <script>
        async function refresh() {
          const response = await fetch('/status');
          document.getElementById('status').textContent = JSON.stringify(await response.json(), null, 2);
        }
        refresh(); setInterval(refresh, 2000);
        </script></body></html>
        """
}
