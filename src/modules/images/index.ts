/** The images module: uploads, the stored files and their derived copies, and the Image type. */
import {
  ImageResolver,
  ImageUploadedEventResolver,
  LesionImagesResolver,
  PatientImagesResolver,
} from './images.resolver';
import { ImageNavigationResolver } from './image-navigation.resolver';

export { ImageType, ImageConnection } from './images.types';
export { imageShaById } from './images.loaders';
export { imageFileRoute, type ImageRouteDeps } from './image-routes';
export { uploadImages, type IncomingFile, type UploadDeps } from './uploads.service';
export { displayedSize } from './image-processing';
export { imageNodes } from './image-navigation.resolver';

export const imageResolvers = [
  ImageResolver,
  PatientImagesResolver,
  LesionImagesResolver,
  ImageUploadedEventResolver,
  ImageNavigationResolver,
] as const;
