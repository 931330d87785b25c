// The dashboard's HTML shell. It holds no data: app.js fills it from the
// authenticated feed, so the page itself is served without a token.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Meridian · mesh status</title>
<link rel="stylesheet" href="/dashboard/style.css">
<link rel="icon" type="image/svg+xml" href="/dashboard/favicon.svg">
</head>
<body>
<header class="top">
  <h1>Meridian <span class="sub">mesh status</span></h1>
  <span id="summary" class="summary"></span>
  <span class="spacer"></span>
  <span id="generated" class="muted"></span>
  <span id="conn" class="conn" data-conn="connecting">connecting…</span>
  <button id="forget" type="button" class="link" title="Forget the stored token">sign out</button>
</header>

<form id="login" class="panel login" hidden>
  <h2>Token</h2>
  <p>An admin or read token of the global controller (<code>meridian global-controller --tokens-file</code>). It stays in this browser.</p>
  <p id="login-error" class="error"></p>
  <input id="token-input" type="password" autocomplete="off" spellcheck="false" placeholder="token" required>
  <button type="submit">Connect</button>
</form>

<main id="main">
  <section class="panel map-panel">
    <svg id="map" viewBox="0 6 360 142" preserveAspectRatio="xMidYMid meet" role="img" aria-label="World map of the regions and their tunnels">
      <g id="map-base"></g>
      <g id="map-tunnels"></g>
      <g id="map-regions"></g>
    </svg>
    <div class="legend">
      <span><i class="dot online"></i>zone online</span>
      <span><i class="dot offline"></i>zone offline</span>
      <span><i class="line up"></i>tunnel up (handshake age)</span>
      <span><i class="line down"></i>tunnel down</span>
    </div>
  </section>

  <section class="panel">
    <h2>Regions</h2>
    <div id="regions" class="regions"></div>
  </section>

  <div class="columns">
    <section class="panel">
      <h2>Services <span class="muted">healthy / total instances per region</span></h2>
      <div id="services"></div>
    </section>
    <section class="panel">
      <h2>Tunnels</h2>
      <div id="tunnels"></div>
    </section>
  </div>
</main>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;
