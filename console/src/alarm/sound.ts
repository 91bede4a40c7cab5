/** The alarm's sound: a two-tone signal generated with Web Audio, no file fetched. */

let context: AudioContext | null = null;

/** Creates (or resumes) the audio context; call it from a user gesture (sign-in), as
 * browsers allow sound only after one. */
export function unlockAudio(): void {
  try {
    context ??= new AudioContext();
    void context.resume();
  } catch {
    context = null;
  }
}

export function playAlarm(urgent: boolean): void {
  if (!context || context.state !== "running") return;
  const start = context.currentTime;
  const tones = urgent ? [880, 660, 880, 660] : [660, 520];
  tones.forEach((hz, i) => {
    if (!context) return;
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = "square";
    osc.frequency.value = hz;
    const at = start + i * 0.22;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
    osc.connect(gain).connect(context.destination);
    osc.start(at);
    osc.stop(at + 0.21);
  });
}

export function closeAudio(): void {
  void context?.close();
  context = null;
}
