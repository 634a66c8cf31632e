import { Field, ObjectType } from 'type-graphql';

@ObjectType()
export class TwoFactorEnrollment {
  @Field(() => String, { description: 'Base32 secret, for typing into an authenticator app' })
  secret!: string;

  @Field(() => String)
  otpauthUrl!: string;

  @Field(() => String, { description: 'The otpauth URL as a QR code, data:image/png;base64,...' })
  qrCodeDataUrl!: string;
}
