// The chat page: join with a name, then chat, see who types and who is present. A
// dropped connection comes back by itself with what was said meanwhile (recovery).
import { recover } from "/chat/specter-recovery.mjs";

const $ = (id) => document.getElementById(id);
const socket = recover(io({ autoConnect: false, transports: ["websocket", "polling"] }));

function show(msg, cls) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  if (msg.user) {
    const who = document.createElement("span");
    who.className = "user";
    who.textContent = msg.user;
    li.append(who);
  }
  li.append(document.createTextNode(msg.text));
  $("messages").append(li);
  li.scrollIntoView();
}

$("join").addEventListener("submit", (e) => {
  e.preventDefault();
  socket.auth = { name: $("name").value.trim() };
  socket.connect();
});

socket.on("connect", () => {
  // Back with everything missed: the page already shows the rest.
  if (socket.recovered) return;
  $("join").hidden = true;
  socket.emit("join", null, (history) => {
    if (Array.isArray(history)) history.forEach((m) => show(m));
  });
  $("text").focus();
});
socket.on("connect_error", (err) => alert(err.message));
socket.on("message", (msg) => show(msg));
socket.on("presence", (names) => {
  $("present").replaceChildren(...names.map((n) => Object.assign(document.createElement("li"), { textContent: n })));
});

let typingTimer;
socket.on("typing", ({ user }) => {
  $("typing").textContent = `${user} is typing…`;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => ($("typing").textContent = ""), 1500);
});

let lastTyping = 0;
$("text").addEventListener("input", () => {
  if (Date.now() - lastTyping > 500) {
    lastTyping = Date.now();
    socket.emit("typing");
  }
});

$("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text.trim()) return;
  socket.emit("message", { text }, (ack) => {
    if (ack && ack.error) show({ text: `not sent: ${ack.error.message}` }, "notice");
  });
  $("text").value = "";
});
