/** Shows an email's HTML without letting it do anything: a sandboxed frame (no scripts, forms,
 * popups or top navigation), its own CSP on top of the app's (no remote images, so viewing a
 * message never loads its open pixel), and links that open nowhere. */

// Placed before the message's own markup, so the parser puts both in the frame's <head>; a
// <meta> policy only narrows the one the frame inherits from the app.
const GUARD =
  '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:">' +
  '<base target="_blank">';

export function HtmlFrame({ html, title }: { html: string; title: string }) {
  return (
    <iframe
      title={title}
      sandbox=""
      referrerPolicy="no-referrer"
      srcDoc={GUARD + html}
      className="h-96 w-full rounded-md border border-slate-200 bg-white"
    />
  );
}
