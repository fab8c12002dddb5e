export { TranscriptCard } from "./transcript-card.js";
export { ImageCard } from "./image-card.js";
export { loadImageText } from "./image.js";
