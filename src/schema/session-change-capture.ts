export {
  changeCaptureActive,
  removeChangeCapture,
  SESSION_CHANGES,
  startChangeCapture,
  stopChangeCapture,
} from './change-tracking';
