// h2pcap report: a click on a mark shows its frame and Wireshark filter,
// with a button that copies the filter. Nothing is fetched.
(function () {
	"use strict";
	var errors = window.h2pcapErrors || ["the error catcher in the head did not run"];
	var box = document.getElementById("detail");
	var text = document.getElementById("detail-text");
	var filter = "";
	document.addEventListener("click", function (e) {
		var el = e.target.closest ? e.target.closest("[data-f]") : null;
		if (!el) { return; }
		var input = el.getAttribute("data-i"), frame = el.getAttribute("data-f");
		var title = el.querySelector("title");
		filter = "frame.number == " + frame;
		text.textContent = (title ? title.textContent : "frame " + frame) + (input !== "0" ? " (frame numbers of input " + input + ")" : "");
		box.hidden = false;
	});
	document.getElementById("detail-copy").addEventListener("click", function () {
		if (navigator.clipboard) { navigator.clipboard.writeText(filter).catch(function () {}); }
	});
	document.getElementById("detail-close").addEventListener("click", function () { box.hidden = true; });

	// #selfcheck: the browser test reads what was drawn and where, written
	// into the page once it has loaded.
	if (location.hash !== "#selfcheck") { return; }
	window.addEventListener("load", function () {
		function measure(el) {
			var r = el.getBoundingClientRect();
			return { id: el.id, cls: el.getAttribute("class"), top: Math.round(r.top), bottom: Math.round(r.bottom), width: Math.round(r.width), height: Math.round(r.height) };
		}
		var out = { errors: errors, viewport: [window.innerWidth, window.innerHeight], boxes: [] };
		var sel = "#headline, #incidents, #timeline, #timeline-wrap, .lane, svg.seqgraph, #path-matrix, #hop-table";
		document.querySelectorAll(sel).forEach(function (el) { out.boxes.push(measure(el)); });
		var pre = document.createElement("pre");
		pre.id = "selfcheck";
		pre.textContent = JSON.stringify(out);
		document.body.appendChild(pre);
	});
})();
