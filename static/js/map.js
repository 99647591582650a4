/* Leaflet maps for search results (clustered) and a facility's detail page. */
(function () {
  "use strict";
  function tiles(el, map) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution, maxZoom: 18 }).addTo(map);
  }
  var detail = document.getElementById("detail-map");
  if (detail) {
    var lat = parseFloat(detail.dataset.lat), lng = parseFloat(detail.dataset.lng);
    var m = L.map(detail).setView([lat, lng], 15);
    tiles(detail, m);
    L.marker([lat, lng], { title: detail.dataset.name, alt: detail.dataset.name }).addTo(m);
  }
  var map = null, layer = null;
  function showMap(button) {
    var el = document.getElementById("map");
    if (!el) return;
    el.hidden = false;
    if (map) { map.remove(); map = null; }
    map = L.map(el).setView([35.45, 139.4], 9);
    tiles(el, map);
    layer = L.markerClusterGroup({ chunkedLoading: true });
    fetch(button.dataset.points, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.points) return;
        data.points.forEach(function (p) {
          var a = document.createElement("a");
          a.href = "/directory/" + p.code + "/";
          a.textContent = p.name;
          var div = document.createElement("div");
          div.appendChild(a);
          div.appendChild(document.createElement("br"));
          div.appendChild(document.createTextNode(p.kind + "｜" + p.vacancy));
          layer.addLayer(L.marker([p.lat, p.lng], { title: p.name, alt: p.name }).bindPopup(div));
        });
        map.addLayer(layer);
        if (data.center) {
          L.circle(data.center, { radius: (data.radius_km || 0) * 1000, fill: false }).addTo(map);
        }
        if (data.points.length) map.fitBounds(layer.getBounds(), { maxZoom: 15, padding: [20, 20] });
      });
    el.scrollIntoView({ behavior: "smooth", block: "start" });
  }
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest && ev.target.closest("#show-map");
    if (t) showMap(t);
  });
})();
