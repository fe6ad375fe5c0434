// The installable web app: registers the service worker (/sw.js), forgets the saved
// queue page on logout, and runs the "notifications on this phone" card of /profile/.
// Every page works without it.
(function () {
  "use strict";
  var script = document.currentScript;
  var workerUrl = script && script.dataset.serviceWorker;
  if (!("serviceWorker" in navigator) || !workerUrl) return;

  navigator.serviceWorker.register(workerUrl).catch(function () {});

  function forgetSavedPages() {
    if (navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage("forget-pages");
    }
  }
  // Logging out, or a page without an account (the login page): the queue saved on this
  // device belongs to nobody any more.
  document.addEventListener("submit", function (event) {
    var action = event.target.getAttribute("action") || "";
    if (/\/logout$/.test(action)) forgetSavedPages();
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector(".account .who")) forgetSavedPages();
    setUpPushCard(document.getElementById("push"));
  });

  function base64UrlToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function setUpPushCard(card) {
    if (!card) return;
    var status = card.querySelector("#push-status");
    var on = card.querySelector("#push-subscribe");
    var off = card.querySelector("#push-unsubscribe");
    var messages = card.dataset;
    function show(text, subscribed) {
      status.textContent = text;
      on.hidden = subscribed !== false;
      off.hidden = subscribed !== true;
    }
    if (!("PushManager" in window) || !("Notification" in window)) {
      show(messages.msgUnsupported, null);
      return;
    }
    function post(url, body) {
      return fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": messages.csrf},
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw new Error(data.error || messages.msgError);
          return data;
        });
      });
    }
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription().then(function (subscription) {
        show(subscription ? messages.msgOn : messages.msgOff, !!subscription);
        on.addEventListener("click", function () {
          on.disabled = true;
          Notification.requestPermission().then(function (permission) {
            if (permission !== "granted") throw new Error(messages.msgDenied);
            return registration.pushManager.subscribe({
              userVisibleOnly: true,
              applicationServerKey: base64UrlToBytes(messages.vapidKey)
            });
          }).then(function (created) {
            return post(messages.subscribeUrl, created.toJSON());
          }).then(function () {
            window.location.reload();  // the list of devices shows the new one
          }).catch(function (error) {
            show(error.message || messages.msgError, false);
          }).then(function () { on.disabled = false; });
        });
        off.addEventListener("click", function () {
          off.disabled = true;
          registration.pushManager.getSubscription().then(function (current) {
            if (!current) return null;
            var endpoint = current.endpoint;
            return current.unsubscribe().then(function () {
              return post(messages.unsubscribeUrl, {endpoint: endpoint});
            });
          }).then(function () {
            window.location.reload();
          }).catch(function (error) {
            show(error.message || messages.msgError, true);
          }).then(function () { off.disabled = false; });
        });
      });
    });
  }
})();
