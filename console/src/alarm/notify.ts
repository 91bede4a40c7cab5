/** Browser notifications for alarms. Permission is asked from a user gesture (sign-in);
 * a notification is replaced by the next of the same item (its tag), and all are closed
 * when the session ends. */

const open = new Map<string, Notification>();

export function askNotifications(): void {
  if (typeof Notification === "undefined" || Notification.permission !== "default") return;
  void Notification.requestPermission().catch(() => undefined);
}

export function notify(id: string, title: string, body: string, onClick: () => void): void {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  try {
    open.get(id)?.close();
    const note = new Notification(title, { body, tag: id, requireInteraction: true });
    note.onclick = () => {
      window.focus();
      onClick();
      note.close();
    };
    open.set(id, note);
  } catch {
    // a browser that allows notifications only from a service worker: the sound stays
  }
}

export function closeNotification(id: string): void {
  open.get(id)?.close();
  open.delete(id);
}

export function closeAllNotifications(): void {
  for (const note of open.values()) note.close();
  open.clear();
}
