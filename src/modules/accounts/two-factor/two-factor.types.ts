import { Field, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    'A TOTP secret waiting for confirmTwoFactorEnrollment (SHA-1, 6 digits, 30 s steps). 2FA is off until confirmed',
})
export class TwoFactorEnrollment {
  @Field(() => String, { description: 'Base32 secret, for typing into an authenticator app' })
  secret!: string;

  @Field(() => String, { description: 'otpauth://totp/... URL, for authenticator apps and QR code libraries' })
  otpauthUrl!: string;

  @Field(() => String, { description: 'The otpauth URL as a QR code, data:image/png;base64,...' })
  qrCodeDataUrl!: string;
}
