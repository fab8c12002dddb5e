export { TranscriptCard } from "./transcript-card.js";
export { ImageCard, PPSE_NAME } from "./image-card.js";
export { type CardImage, type ImageApplication, type ImageFile, loadImage, loadImageText } from "./image.js";
export { defaultReplayActivation } from "./activation.js";
