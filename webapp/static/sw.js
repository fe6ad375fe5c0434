// The service worker of Ward Helpdesk (served at /sw.js, scope: the whole site).
//
// - Offline shell: the last queue page a student saw is kept and shown when the network
//   is gone, with the offline banner the page itself carries (its <meta
//   name="offline-banner">, in the user's language). Other pages offline get /offline.
//   Only the queue is kept, never a ticket page; it is dropped on logout (pwa.js) and
//   when the server answers the queue with a redirect (the login page).
// - Static files (/static/) come from the cache first, refreshed in the background.
// - Push: shows the notification (sound and kept on screen when urgent); a tap opens
//   the ticket.
"use strict";

var VERSION = "v1";
var PAGES = "helpdesk-pages-" + VERSION;    // the saved queue page (per user: see pwa.js)
var STATIC = "helpdesk-static-" + VERSION;  // app.css, app.js, htmx, icons
var SCOPE = new URL(self.registration.scope);
var QUEUE = new URL("tickets/queue", SCOPE).pathname;
var OFFLINE = new URL("offline", SCOPE).pathname;
var STATIC_PREFIX = new URL("static/", SCOPE).pathname;
var ICON = new URL("static/icons/icon-192.png", SCOPE).href;
var BADGE = new URL("static/icons/badge-96.png", SCOPE).href;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(PAGES).then(function (cache) {
    return cache.add(new Request(OFFLINE, {credentials: "omit"}));  // no account: no name in it
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("helpdesk-") === 0 && name !== PAGES && name !== STATIC;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== SCOPE.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  } else if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(staticFile(request));
  }
});

function page(request, url) {
  return fetch(request).then(function (response) {
    if (url.pathname !== QUEUE) return response;
    // Redirected: logged out or no longer a student. Forget the saved queue.
    var keep = response.ok && !response.redirected ? response.clone() : null;
    return caches.open(PAGES).then(function (cache) {
      return keep ? cache.put(QUEUE, keep) : cache.delete(QUEUE);
    }).then(function () { return response; }, function () { return response; });
  }).catch(function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(QUEUE).then(function (saved) {
        if (saved) return withBanner(saved);
        return cache.match(OFFLINE).then(function (shell) {
          return shell || Response.error();
        });
      });
    });
  });
}

// The saved page with the offline banner at the top of <main>. The banner's text is the
// page's own <meta name="offline-banner" content="..."> (already HTML-escaped there).
function withBanner(saved) {
  return saved.text().then(function (html) {
    var found = /<meta name="offline-banner" content="([^"]*)">/.exec(html);
    var banner = '<div class="flash flash-error offline-banner" id="offline-banner" role="alert">' +
      (found ? found[1] : "Offline") + "</div>";
    html = html.replace('<main id="main">', '<main id="main">' + banner);
    return new Response(html, {
      status: 200,
      headers: {"Content-Type": "text/html; charset=utf-8", "X-Helpdesk-Offline": "1"}
    });
  });
}

function staticFile(request) {
  return caches.open(STATIC).then(function (cache) {
    return cache.match(request).then(function (cached) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
      if (cached) {
        fresh.catch(function () {});  // offline: the cached copy is enough
        return cached;
      }
      return fresh;
    });
  });
}

self.addEventListener("message", function (event) {
  // pwa.js on logout: the saved queue belongs to the user who leaves.
  if (event.data === "forget-pages") {
    event.waitUntil(caches.open(PAGES).then(function (cache) { return cache.delete(QUEUE); }));
  }
});

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {body: event.data ? event.data.text() : ""};
  }
  var urgent = data.urgent === true;
  var options = {
    body: data.body || "",
    icon: ICON,
    badge: BADGE,
    data: {url: data.url || SCOPE.href},
    // Urgent (a P1 ticket, a citizen waiting): stays on screen, sound and vibration.
    requireInteraction: urgent,
    silent: false,
    vibrate: urgent ? [300, 100, 300, 100, 300] : [100]
  };
  if (data.tag) {
    options.tag = String(data.tag);  // a newer notice about the ticket replaces the older
    options.renotify = urgent;
  }
  event.waitUntil(self.registration.showNotification(data.title || SCOPE.host, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || SCOPE.href,
                       SCOPE);
  if (target.origin !== SCOPE.origin) target = SCOPE;  // only our own pages
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true})
    .then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === target.href && "focus" in windows[i]) return windows[i].focus();
      }
      for (var j = 0; j < windows.length; j++) {
        if ("navigate" in windows[j]) {
          return windows[j].focus().then(function (client) {
            return client.navigate(target.href);
          });
        }
      }
      return self.clients.openWindow(target.href);
    }));
});
