// The check-in page's camera scanning (app/src/bookings/ui/check_in_page.rs), where the browser
// offers a barcode detector: it fills the code field and submits the same form a person types
// into. Typing always works. Loaded by a <script> after the form, so its elements exist.
(() => {
  const button = document.getElementById('scan-camera');
  const video = document.getElementById('scan-video');
  const input = document.getElementById('check-in-code');
  if (!button || !video || !input || !('BarcodeDetector' in window) || !navigator.mediaDevices) return;
  BarcodeDetector.getSupportedFormats().then((formats) => { button.hidden = !formats.includes('qr_code'); });
  let stream = null;
  const stop = () => { if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; } video.hidden = true; };
  button.addEventListener('click', async () => {
    if (stream) { stop(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch (_) { return; }
    const detector = new BarcodeDetector({ formats: ['qr_code'] });
    video.srcObject = stream; video.hidden = false; await video.play();
    const look = async () => {
      if (!stream) return;
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length > 0) { input.value = codes[0].rawValue; stop(); input.form.requestSubmit(); return; }
      setTimeout(look, 200);
    };
    look();
  });
})();
