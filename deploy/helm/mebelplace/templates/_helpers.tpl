{{/* Names and labels shared by every template. */}}
{{- define "mebelplace.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The Kubernetes name of one program: <release>-<service>. Call with (dict "root" $ "name" "auth"). */}}
{{- define "mebelplace.programName" -}}
{{- printf "%s-%s" (include "mebelplace.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mebelplace.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: mebelplace
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one program. Call with (dict "root" $ "name" "auth"). */}}
{{- define "mebelplace.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "mebelplace.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "mebelplace.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mebelplace.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* One service entry merged over `defaults`. Call with (dict "root" $ "service" $service); returns YAML. */}}
{{- define "mebelplace.service" -}}
{{- $merged := mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy .service) -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* The settings every program gets (ConfigMap data, and the migrate Job's env, which runs before the ConfigMap exists). */}}
{{- define "mebelplace.commonEnv" -}}
APP_ENV: {{ .Values.config.environment | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
HOST: "0.0.0.0"
DATABASE_MAX_CONNECTIONS: {{ .Values.postgresql.maxConnections | quote }}
NATS_URL: {{ .Values.nats.url | quote }}
KAFKA_BROKERS: {{ .Values.kafka.brokers | quote }}
KAFKA_SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
{{- with .Values.kafka.saslMechanism }}
KAFKA_SASL_MECHANISM: {{ . | quote }}
{{- end }}
{{- with .Values.kafka.saslUsername }}
KAFKA_SASL_USERNAME: {{ . | quote }}
{{- end }}
{{- if .Values.kafka.tlsCaSecret }}
KAFKA_SSL_CA_LOCATION: /var/run/mebelplace/kafka-ca/ca.crt
{{- end }}
JWT_JWKS_URL: {{ printf "http://%s:%v/.well-known/jwks.json" (include "mebelplace.programName" (dict "root" . "name" "auth")) (include "mebelplace.portOf" (dict "root" . "name" "auth")) | quote }}
JWT_ISSUER: {{ .Values.config.jwtIssuer | quote }}
JWT_AUDIENCE: {{ .Values.config.jwtAudience | quote }}
{{- with .Values.config.otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
STORAGE_BACKEND: "s3"
S3_BUCKET: {{ .Values.s3.bucket | quote }}
S3_REGION: {{ .Values.s3.region | quote }}
{{- with .Values.s3.endpoint }}
S3_ENDPOINT: {{ . | quote }}
{{- end }}
CORS_ALLOWED_ORIGINS: {{ .Values.config.corsAllowedOrigins | quote }}
{{- end -}}

{{/* The port of the service named `name`. */}}
{{- define "mebelplace.portOf" -}}
{{- $port := "" -}}
{{- range .root.Values.services -}}
{{- if eq .name $.name }}{{ $port = .port }}{{ end -}}
{{- end -}}
{{- required (printf "no service %q in values.services" .name) $port -}}
{{- end -}}

{{/* Volumes every program mounts: /tmp (the root filesystem is read-only) and Kafka's CA. */}}
{{- define "mebelplace.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.kafka.tlsCaSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tlsCaSecret }}
{{- end }}
{{- end -}}

{{- define "mebelplace.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tlsCaSecret }}
- name: kafka-ca
  mountPath: /var/run/mebelplace/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "mebelplace.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "mebelplace.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
