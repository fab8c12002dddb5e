/** The seconds left before a code may be sent again, counted down from `seconds` each time `restart` changes. */
import { useEffect, useState } from "react";

export function useCountdown(seconds: number, restart: number): number {
  const [left, setLeft] = useState(seconds);
  useEffect(() => {
    const end = Date.now() + seconds * 1000;
    const tick = () => setLeft(Math.max(0, Math.ceil((end - Date.now()) / 1000)));
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, [seconds, restart]);
  return left;
}
