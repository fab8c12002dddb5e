/**
 * The phone: on a desktop a handset-shaped frame centred on the page; on a phone (narrow screen) the app
 * fills the screen and the frame disappears (styles.css, `@media (max-width: 600px)`). The status bar is
 * decoration and hidden from screen readers.
 */
import { useEffect, useState, type ReactNode } from "react";

function useClock(): string {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(timer);
  }, []);
  return now.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
}

export function PhoneFrame({ children, top }: { children: ReactNode; top?: ReactNode }) {
  const time = useClock();
  return (
    <div className="stage">
      <div className="device" data-testid="device">
        <div className="status-bar" aria-hidden="true">
          <span>{time}</span>
          <span className="status-icons">
            <span className="signal" />
            <span className="nfc">NFC</span>
            <span className="battery" />
          </span>
        </div>
        {top}
        <div className="app">{children}</div>
      </div>
    </div>
  );
}
